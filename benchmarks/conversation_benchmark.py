"""Conversation benchmark: the demo store's conversation set (data/benchmarks/conversations/) played turn by turn
through the real SuggestService on a model and index, the way a chat widget would send it, for each way of serving:

- `single`: today's behaviour before clarifying questions: every message decided alone, never a question;
- `clarify, picks`: clarifying questions on, and the simulated customer presses the option of the right intent
  (or "something else" when it is not offered, then rephrases as the set says);
- `clarify, types`: the same questions, but the customer types their reply (the set's `typed` answer) instead;
- `clarify+context, picks` / `types`: the same, with every message after the first read in context (the model's
  context gate) and typed replies mapped to the options they name.

Per conversation: resolved by the bot (every in-scope turn answered with the right intent, or shown an article of
it, with no wrong answer and no handoff), handoff rate, mean customer messages (clicks included) in resolved ones;
per turn: wrong answers per answered turn, and the intent accuracy of follow-up turns (elliptical or corrective:
what context must fix), per turn kind alone and in context, and the coverage curve of first readings (share of turns
read at or above a confidence, and the share of those right). Every turn is read, also after a handoff (the bot
answers nothing more then), so every mode is measured on the same turns. Between-intent single messages are played
as one-turn conversations.

    .venv/bin/python -m benchmarks.conversation_benchmark [--model models/demo] [--index indexes/demo] [--split test]

Prints a table and writes benchmarks/results/conversations.json. Nothing is tuned on the test split.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.paths import CONVERSATIONS, RESULTS, ROOT
from deflect.conversation.access import LOCAL_CALLER
from deflect.conversation.answers import AnswerTemplates
from deflect.conversation.clarify import Choice
from deflect.conversation.results import CustomerMessage, Suggestion
from deflect.conversation.routing import HandoffRouter
from deflect.conversation.service import SuggestService
from deflect.conversation.state import MemoryConversationStore
from deflect.conversation.suggester import Suggester
from deflect.core.demo import DEMO_DIR
from deflect.core.records import OUT_OF_SCOPE
from deflect.core.settings import Settings
from deflect.core.vocabulary import ClarifyStep, Decision, OptionKind, ReasonCode
from deflect.ingest.conversations import CONTEXT_KINDS, LabelledConversation, evaluation_set

# mode → (clarifying questions, context, how the simulated customer answers a question)
MODES = {
    "single": (False, False, None),
    "clarify, picks": (True, False, "picks"),
    "clarify, types": (True, False, "types"),
    "clarify+context, picks": (True, True, "picks"),
    "clarify+context, types": (True, True, "types"),
}
CONTEXT_MODE = "clarify+context, picks"
CURVE_CONFIDENCES = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
MOST_QUESTIONS_PER_TURN = 3


@dataclass
class Tally:
    conversations: int = 0
    resolved: int = 0
    handed_off: int = 0
    messages_in_resolved: int = 0
    answered_turns: int = 0
    wrong_answers: int = 0
    questions: int = 0
    follow_ups: int = 0
    follow_ups_right: int = 0  # intent of the turn's first reply, as the model read it
    per_kind: dict[str, list[int]] = field(default_factory=dict)  # kind → [turns, right first reading]
    readings: list[tuple[float, bool]] = field(default_factory=list)  # each turn's first reading: confidence, right
    errors: list[str] = field(default_factory=list)  # the wrong answers

    def coverage_curve(self) -> list[dict[str, float]]:
        """Share of turns read at or above each confidence, and the share of those read right."""
        curve = []
        for floor in CURVE_CONFIDENCES:
            kept = [right for confidence, right in self.readings if confidence >= floor]
            curve.append(
                {
                    "confidence": floor,
                    "coverage": _share(len(kept), len(self.readings)),
                    "right": _share(sum(kept), len(kept)),
                }
            )
        return curve

    def row(self) -> dict[str, float | int]:
        return {
            "conversations": self.conversations,
            "resolved": _share(self.resolved, self.conversations),
            "handoff_rate": _share(self.handed_off, self.conversations),
            "wrong_answer_rate": _share(self.wrong_answers, self.answered_turns),
            "answered_turns": self.answered_turns,
            "questions_asked": self.questions,
            "mean_messages_to_resolution": round(self.messages_in_resolved / self.resolved, 2) if self.resolved else 0,
            "follow_up_accuracy": _share(self.follow_ups_right, self.follow_ups),
            "follow_ups": self.follow_ups,
        }


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _serves(reply: Suggestion, intent: str, articles_of: dict[str, tuple[str, ...]]) -> bool:
    """A reply that meets an in-scope turn: the right intent answered, or an article of it shown."""
    if reply.decision is Decision.BOT_ANSWER:
        return reply.intent.intent == intent
    shown = [article.id for article in reply.articles]
    return reply.decision is Decision.SUGGEST_ARTICLES and any(intent in articles_of.get(a, ()) for a in shown)


class Player:
    """Plays conversations through one SuggestService, as one simulated customer behaviour."""

    def __init__(self, suggester: Suggester, settings: Settings, behaviour: str | None):
        self.service = SuggestService(
            suggester,
            MemoryConversationStore(ttl_seconds=3600),
            AnswerTemplates.load(settings.answers_file, settings.answers_overrides_file),
            HandoffRouter.load(settings.routing_file),
            settings,
        )
        self.behaviour = behaviour
        self.articles_of = {article_id: a.intents for article_id, a in suggester.index.articles.items()}

    def send(self, conversation_id: str, locale: str, text: str, choice: Choice | None = None) -> Suggestion:
        message = CustomerMessage(text=text, locale=locale, conversation_id=conversation_id, choice=choice)
        return self.service.suggest(message, LOCAL_CALLER)

    def _reply_to_question(self, question: Suggestion, turn: Any, conversation_id: str, locale: str) -> Suggestion:
        clarification = question.clarification
        assert clarification is not None
        if clarification.step is ClarifyStep.REPHRASE:
            return self.send(conversation_id, locale, turn.rephrase or turn.text)
        if self.behaviour == "types":
            return self.send(conversation_id, locale, turn.typed or turn.rephrase or turn.text)
        offered = [option.intent for option in clarification.options if option.kind is OptionKind.INTENT]
        if turn.intent in offered:
            choice = Choice(question.suggestion_id, OptionKind.INTENT, turn.intent)
        else:
            choice = Choice(question.suggestion_id, OptionKind.SOMETHING_ELSE)
        return self.send(conversation_id, locale, "", choice)

    @staticmethod
    def _count_reading(tally: Tally, turn: Any, reply: Suggestion) -> None:
        if turn.intent == OUT_OF_SCOPE:
            right = reply.out_of_scope
        else:
            right = not reply.out_of_scope and reply.intent.intent == turn.intent
        if turn.kind in CONTEXT_KINDS:
            tally.follow_ups += 1
            tally.follow_ups_right += int(right)
        counts = tally.per_kind.setdefault(turn.kind, [0, 0])
        counts[0] += 1
        counts[1] += int(right)
        tally.readings.append((0.0 if reply.out_of_scope else reply.intent.confidence, right))

    def play(self, conversation: LabelledConversation, tally: Tally, prefix: str) -> None:
        """Every turn is read (its first reading counts for the per-turn figures), but once a turn is handed off
        the bot answers nothing more: a person has the conversation."""
        conversation_id = f"{prefix}-{conversation.id}"
        messages, resolved, wrong, handed_off = 0, True, False, False
        for turn in conversation.turns:
            reply = self.send(conversation_id, conversation.locale, turn.text)
            self._count_reading(tally, turn, reply)
            if handed_off:
                continue
            messages += 1
            for _ in range(MOST_QUESTIONS_PER_TURN):
                if reply.decision is not Decision.CLARIFY:
                    break
                tally.questions += 1
                reply = self._reply_to_question(reply, turn, conversation_id, conversation.locale)
                messages += 1
            if reply.decision is Decision.BOT_ANSWER:
                tally.answered_turns += 1
                if turn.intent == OUT_OF_SCOPE or reply.intent.intent != turn.intent:
                    tally.wrong_answers += 1
                    tally.errors.append(
                        f"{conversation.id} {turn.kind}: {turn.text!r} {turn.intent} → {reply.intent.intent}"
                    )
                    wrong = True
            if reply.decision is Decision.HANDOFF:
                tally.handed_off += 1
                resolved, handed_off = False, True
            elif turn.intent != OUT_OF_SCOPE and not _serves(reply, turn.intent, self.articles_of):
                resolved = False
        tally.conversations += 1
        if resolved and not wrong:
            tally.resolved += 1
            tally.messages_in_resolved += messages


def demo_split(suggester: Suggester, split: str) -> dict[str, float | int]:
    """The demo store's single messages of one split, each sent alone with clarifying questions on: how many the
    bot answers (and how many of those rightly), asks about (and how often the right intent is among the options),
    and leaves to articles or a person for low confidence."""
    with (DEMO_DIR / f"{split}.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    player = Player(suggester, Settings(), behaviour=None)
    answered = answered_right = asked = asked_right = unsure = 0
    for number, row in enumerate(rows):
        reply = player.send(f"demo-{split}-{number}", row["locale"], row["text"])
        gold = row["label"]
        if reply.decision is Decision.BOT_ANSWER:
            answered += 1
            answered_right += int(gold != OUT_OF_SCOPE and reply.intent.intent == gold)
        elif reply.decision is Decision.CLARIFY and reply.clarification is not None:
            asked += 1
            offered = {option.intent for option in reply.clarification.options}
            asked_right += int(gold in offered)
        elif reply.reason_code in (ReasonCode.LOW_CONFIDENCE, ReasonCode.NO_ARTICLE):
            unsure += 1
    handled = answered + asked
    return {
        "messages": len(rows),
        "answered": _share(answered, len(rows)),
        "answered_right": _share(answered_right, answered),
        "clarified": _share(asked, len(rows)),
        "clarified_with_right_option": _share(asked_right, asked),
        "handled_right": _share(answered_right + asked_right, handled),
        "left_for_low_confidence": _share(unsure, len(rows)),
    }


def run(
    suggester: Suggester, conversations: Iterable[LabelledConversation], modes: dict[str, Tally], prefix: str
) -> None:
    for name, (clarify, context, behaviour) in MODES.items():
        settings = Settings(clarify=clarify, context=context)
        player = Player(suggester, settings, behaviour)
        for conversation in conversations:
            player.play(conversation, modes[name], f"{prefix}-{name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "demo")
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "demo")
    parser.add_argument("--split", default="test", choices=["test", "validation"])
    parser.add_argument("--output", type=Path, default=RESULTS / "conversations.json")
    parser.add_argument("--show-errors", metavar="MODE", choices=list(MODES), help="print that mode's wrong answers")
    args = parser.parse_args()

    suggester = Suggester.load(Settings(), args.model, args.index)
    conversations, between = evaluation_set(CONVERSATIONS, frozenset(suggester.model.labels), split=args.split)
    started = time.perf_counter()
    report: dict[str, Any] = {"model": suggester.model.version, "split": args.split, "suites": {}}
    for suite, rows in (("conversations", conversations), ("between", between)):
        for locale in ("ko", "en", "all"):
            chosen = [c for c in rows if locale in ("all", c.locale)]
            tallies = {name: Tally() for name in MODES}
            run(suggester, chosen, tallies, f"{suite}-{locale}")
            report["suites"][f"{suite}/{locale}"] = {name: tally.row() for name, tally in tallies.items()}
            if args.show_errors and locale == "all":
                print("\n".join(tallies[args.show_errors].errors))
            if locale == "all":
                in_context = tallies[CONTEXT_MODE].per_kind
                report["suites"][f"{suite}/{locale}"]["turn_kinds"] = {
                    kind: {
                        "turns": n,
                        "single_message_accuracy": _share(right, n),
                        "accuracy_in_context": _share(in_context[kind][1], in_context[kind][0]),
                    }
                    for kind, (n, right) in sorted(tallies["single"].per_kind.items())
                }
                report["suites"][f"{suite}/{locale}"]["coverage_curves"] = {
                    mode: tallies[mode].coverage_curve() for mode in ("single", CONTEXT_MODE)
                }
    report["demo_messages"] = {split: demo_split(suggester, split) for split in ("validation", "test")}
    report["seconds"] = round(time.perf_counter() - started, 1)
    suggester.close()
    _print(report)
    _print_turn_kinds(report["suites"]["conversations/all"])
    _print_demo_messages(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


def _print_turn_kinds(suite: dict[str, Any]) -> None:
    print(f"{'turn kind':<14}{'turns':>6}{'alone':>8}{'context':>9}")
    for kind, row in suite["turn_kinds"].items():
        print(f"{kind:<14}{row['turns']:>6}{row['single_message_accuracy']:>8.1%}{row['accuracy_in_context']:>9.1%}")
    print(f"{'coverage curve':<24}" + "".join(f"{floor:>12}" for floor in CURVE_CONFIDENCES))
    for mode, curve in suite["coverage_curves"].items():
        cells = "".join(f"{point['coverage']:>6.0%}/{point['right']:<5.0%}" for point in curve)
        print(f"{mode:<24}{cells}")


def _print_demo_messages(report: dict[str, Any]) -> None:
    print(
        f"{'demo split':<12}{'answered':>10}{'right':>8}{'clarified':>11}{'option':>8}"
        f"{'handled right':>15}{'unsure':>8}"
    )
    for split, row in report["demo_messages"].items():
        print(
            f"{split:<12}{row['answered']:>10.1%}{row['answered_right']:>8.1%}{row['clarified']:>11.1%}"
            f"{row['clarified_with_right_option']:>8.1%}{row['handled_right']:>15.1%}{row['left_for_low_confidence']:>8.1%}"
        )


def _print(report: dict[str, Any]) -> None:
    print(f"model {report['model']}, {report['split']} split")
    print(
        f"{'suite':<20}{'mode':<24}{'n':>5}{'resolved':>10}{'wrong/ans':>11}{'handoff':>9}{'turns':>7}{'follow-up':>11}"
    )
    for suite, modes in report["suites"].items():
        for mode, row in modes.items():
            if mode in ("turn_kinds", "coverage_curves"):
                continue
            print(
                f"{suite:<20}{mode:<24}{row['conversations']:>5}{row['resolved']:>10.1%}"
                f"{row['wrong_answer_rate']:>11.1%}{row['handoff_rate']:>9.1%}"
                f"{row['mean_messages_to_resolution']:>7}{row['follow_up_accuracy']:>11.1%}"
            )


if __name__ == "__main__":
    main()
