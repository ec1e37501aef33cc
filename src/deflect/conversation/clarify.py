"""Clarifying questions: what the bot asks when it cannot tell which intent a message means, the options it offers
in the customer's words, and what an option the customer chose stands for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deflect.conversation.state import Conversation, SuggestionEvent
from deflect.core.vocabulary import ClarifyStep, Decision, OptionKind
from deflect.intent.model import ClarifyBand, IntentPrediction
from deflect.retrieval.index import ArticleHit

OptionLabel = Callable[[str, str], str]  # (intent, locale) → how a question offers it

QUESTIONS: dict[str, dict[ClarifyStep, str]] = {
    "ko": {
        ClarifyStep.CHOOSE: "어떤 내용을 도와드릴까요?",
        ClarifyStep.REPHRASE: "죄송해요, 잘 이해하지 못했어요. 어떤 도움이 필요하신지 조금 더 자세히 적어 주시겠어요?",
    },
    "en": {
        ClarifyStep.CHOOSE: "Which of these do you mean?",
        ClarifyStep.REPHRASE: "Sorry, I didn't quite get that. Could you tell me a little more about what you need?",
    },
}
EXTRA_LABELS: dict[str, dict[OptionKind, str]] = {
    "ko": {OptionKind.SOMETHING_ELSE: "다른 문의예요", OptionKind.PERSON: "상담원과 이야기할게요"},
    "en": {OptionKind.SOMETHING_ELSE: "Something else", OptionKind.PERSON: "Talk to a person"},
}


@dataclass(frozen=True)
class ClarifyOption:
    kind: OptionKind
    label: str
    intent: str | None = None  # for kind intent
    article_id: str | None = None  # the article that answers it, when one was found


@dataclass(frozen=True)
class Clarification:
    step: ClarifyStep
    question: str
    options: list[ClarifyOption]


@dataclass(frozen=True)
class Choice:
    """The option a customer picked: `suggestion_id` is the clarifying question's."""

    suggestion_id: str
    kind: OptionKind = OptionKind.INTENT
    intent: str | None = None


class UnknownChoice(ValueError):
    """A choice that does not answer a clarifying question of this conversation."""


def _texts(table: dict[str, dict], locale: str, fallback_locale: str) -> dict:
    return table.get(locale) or table.get(fallback_locale) or table["en"]


def ask(
    step: ClarifyStep,
    prediction: IntentPrediction,
    hits: list[ArticleHit],
    band: ClarifyBand | None,
    option_label: OptionLabel,
    locale: str,
    fallback_locale: str,
) -> Clarification:
    """Choose: the model's best intents (as many as the band's coverage takes; the top two without a band) with the
    article for each, then "something else" and "talk to a person"; rephrase: only "talk to a person"."""
    extras = _texts(EXTRA_LABELS, locale, fallback_locale)
    options: list[ClarifyOption] = []
    if step is ClarifyStep.CHOOSE:
        intents = band.options(prediction.top_intents) if band else [i for i, _ in prediction.top_intents[:2]]
        for intent in intents:
            article = next((hit.article.id for hit in hits if intent in hit.article.intents), None)
            options.append(ClarifyOption(OptionKind.INTENT, option_label(intent, locale), intent, article))
        options.append(ClarifyOption(OptionKind.SOMETHING_ELSE, extras[OptionKind.SOMETHING_ELSE]))
    options.append(ClarifyOption(OptionKind.PERSON, extras[OptionKind.PERSON]))
    return Clarification(step, _texts(QUESTIONS, locale, fallback_locale)[step], options)


def unclear_turns(conversation: Conversation | None) -> int:
    """Clarifying questions asked in a row at the end of the conversation."""
    count = 0
    for suggestion in reversed(conversation.suggestions if conversation else []):
        if suggestion.decision != Decision.CLARIFY:
            break
        count += 1
    return count


def answered_question(conversation: Conversation | None, choice: Choice) -> SuggestionEvent:
    """The clarifying question `choice` answers; raises UnknownChoice unless it is the conversation's latest
    suggestion, was a question, and offered the option chosen."""
    suggestions = conversation.suggestions if conversation else []
    question = next((s for s in suggestions if s.suggestion_id == choice.suggestion_id), None)
    if question is None:
        raise UnknownChoice(f"suggestion '{choice.suggestion_id}' is not part of this conversation")
    if question.decision != Decision.CLARIFY:
        raise UnknownChoice(f"suggestion '{choice.suggestion_id}' asked no question")
    if question is not suggestions[-1]:
        raise UnknownChoice(f"suggestion '{choice.suggestion_id}' was already answered")
    if choice.kind not in {option["kind"] for option in question.offered}:
        raise UnknownChoice(f"suggestion '{choice.suggestion_id}' did not offer '{choice.kind}'")
    intents = [option["intent"] for option in question.offered if option["kind"] == OptionKind.INTENT]
    if choice.kind is OptionKind.INTENT and choice.intent not in intents:
        raise UnknownChoice(
            f"intent '{choice.intent}' was not among the options of '{choice.suggestion_id}' "
            f"({', '.join(intents) or 'none'})"
        )
    return question


def stored(clarification: Clarification) -> dict[str, Any]:
    """The question as the conversation state keeps it."""
    return {
        "step": clarification.step.value,
        "question": clarification.question,
        "options": [
            {"kind": o.kind.value, "label": o.label, "intent": o.intent, "article_id": o.article_id}
            for o in clarification.options
        ],
    }
