"""Fitting the context gate (deflect.intent.context) on labelled conversations: for every customer turn after the
first (out-of-scope ones too: they never continue), the turn read alone and joined to the previous one, with the
previous turn's intent as the conversation would have settled it — for certain (the customer chose it, or the bot
answered it), as the previous reading's top intents (nothing settled), and, where the model misread the previous
turn, that misreading for certain (the bot answered it wrongly) — and whether the turn continues that intent.
Conversations of the `test` split are never read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_predict

from deflect.core.text import normalize_text
from deflect.ingest.conversations import LabelledConversation
from deflect.intent.context import (
    CONTEXT_FEATURES,
    CONTINUES,
    ContextGate,
    blend,
    context_features,
    joined_vector,
    says_it_alone,
)
from deflect.intent.model import IntentModel
from deflect.training.thresholds import choose_answer_threshold

C_VALUES = (0.1, 1.0, 10.0)
ALONE_CONFIDENT = (0.7, 0.8, 0.9, 0.95, 0.99, 1.01)  # 1.01: never read alone
PREVIOUS_TOP_INTENTS = 3  # as many as a stored suggestion keeps


@dataclass
class GateExamples:
    features: list[np.ndarray]
    continues: list[bool]
    groups: list[int]  # the conversation each example comes from: cross-validation keeps them together
    # alone, prior, the alone reading's in-scope score minus the threshold, the turn's intent (-1: out of scope)
    readings: list[tuple[np.ndarray, np.ndarray, float, int]]


class ContextGateError(ValueError):
    pass


def _top(row: np.ndarray, count: int) -> np.ndarray:
    kept = np.zeros_like(row)
    order = np.argsort(-row)[:count]
    kept[order] = row[order]
    return kept / kept.sum()


def _certain(column: int, columns: int) -> np.ndarray:
    prior = np.zeros(columns)
    prior[column] = 1.0
    return prior


def gate_examples(model: IntentModel, conversations: list[LabelledConversation]) -> GateExamples:
    column = {intent: i for i, intent in enumerate(model.intents)}
    pairs = [
        (number, turn, previous)
        for number, conversation in enumerate(conversations)
        if conversation.split != "test"
        for previous, turn in zip(conversation.turns, conversation.turns[1:], strict=False)
        if previous.intent in column
    ]
    if len(pairs) < 20:
        raise ContextGateError(f"{len(pairs)} follow-up turns with an in-scope previous turn: at least 20 are needed")
    texts = [normalize_text(t) for _, turn, previous in pairs for t in (turn.text, f"{previous.text} {turn.text}")]
    previous_texts = [normalize_text(previous.text) for _, _, previous in pairs]
    messages, previous_vectors = model.encode(texts[::2]), model.encode(previous_texts)
    vectors = np.empty((len(texts), messages.shape[1]), dtype=np.float32)
    vectors[::2] = messages
    vectors[1::2] = [joined_vector(m, p) for m, p in zip(messages, previous_vectors, strict=True)]
    distributions, scores = model.distributions(texts, vectors)
    previous_readings, _ = model.distributions(previous_texts, previous_vectors)
    scores = scores - model.out_of_scope_threshold
    examples = GateExamples([], [], [], [])
    for index, (group, turn, previous) in enumerate(pairs):
        alone, joined = distributions[2 * index], distributions[2 * index + 1]
        misread = model.intents[int(np.argmax(previous_readings[index]))]
        priors = [(_certain(column[previous.intent], len(column)), previous.intent)]
        priors.append((_top(previous_readings[index], PREVIOUS_TOP_INTENTS), previous.intent))
        if misread != previous.intent:  # the bot answered the previous turn wrongly: a correction often follows
            priors.append((_certain(column[misread], len(column)), misread))
        for prior, settled in priors:
            examples.features.append(
                context_features(
                    alone, joined, scores[2 * index], scores[2 * index + 1], prior, normalize_text(turn.text)
                )
            )
            examples.continues.append(turn.intent == settled)
            examples.groups.append(group)
            examples.readings.append((alone, prior, float(scores[2 * index]), column.get(turn.intent, -1)))
    return examples


@dataclass(frozen=True)
class HeldOutReading:
    in_context: bool  # False: read alone (confident enough) or out of scope
    confidence: float
    right: bool


def _readings(examples: GateExamples, continuation: np.ndarray, alone_confident: float) -> list[HeldOutReading]:
    """Each turn as deflect.intent.model reads it in context: out of scope when the message alone is and does not
    continue, else the blended intent (or the alone one, when it is confident enough)."""
    gate = ContextGate((0.0,) * len(CONTEXT_FEATURES), 0.0, alone_confident)
    readings = []
    for (alone, prior, alone_in_scope, intent), g in zip(examples.readings, continuation, strict=True):
        if says_it_alone(gate, alone, alone_in_scope):
            readings.append(HeldOutReading(False, float(alone.max()), int(np.argmax(alone)) == intent))
        elif g < CONTINUES and alone_in_scope < 0:
            readings.append(HeldOutReading(False, 0.0, intent < 0))
        else:
            blended = blend(alone, prior, float(g))
            readings.append(HeldOutReading(True, float(blended.max()), int(np.argmax(blended)) == intent))
    return readings


def _accuracy(readings: list[HeldOutReading]) -> float:
    return float(np.mean([reading.right for reading in readings]))


@dataclass(frozen=True)
class LevelOutcome:
    """The cross-validated readings at one `alone_confident` level, the answer threshold of its readings in context
    and the readings the bot would answer: those in context at that threshold, the others at the model's own."""

    alone_confident: float
    readings: list[HeldOutReading]
    answer_threshold: float
    answered: list[HeldOutReading]

    @property
    def wrong_share(self) -> float:
        return 1.0 - _accuracy(self.answered) if self.answered else 0.0


def _level_outcome(
    examples: GateExamples, continuation: np.ndarray, level: float, model_threshold: float, answer_precision: float
) -> LevelOutcome:
    readings = _readings(examples, continuation, level)
    in_context = [reading for reading in readings if reading.in_context]
    threshold = choose_answer_threshold(
        np.array([reading.confidence for reading in in_context]),
        np.array([reading.right for reading in in_context]),
        answer_precision,
    )
    answered = [
        reading
        for reading in readings
        if reading.confidence > 0.0
        and reading.confidence >= (max(threshold, model_threshold) if reading.in_context else model_threshold)
    ]
    return LevelOutcome(level, readings, threshold, answered)


def _best_level(outcomes: list[LevelOutcome], answer_precision: float) -> LevelOutcome:
    """The level answering the most turns right with at most 1 − `answer_precision` of its answers wrong; when none
    keeps to that, the one with the fewest wrong answers."""
    keeping = [outcome for outcome in outcomes if outcome.wrong_share <= 1.0 - answer_precision]
    if keeping:
        return max(keeping, key=lambda o: (sum(reading.right for reading in o.answered), -o.alone_confident))
    return min(outcomes, key=lambda o: (o.wrong_share, o.alone_confident))


def fit_context_gate(
    model: IntentModel,
    conversations: list[LabelledConversation],
    source: str,
    folds: int = 5,
    answer_precision: float = 0.95,
) -> tuple[ContextGate, dict]:
    """The gate with the C that predicts continuations best (log-loss, conversations kept whole across folds),
    refitted on every example; the answer threshold of readings in context (the lowest confidence with
    `answer_precision` of them right); and `alone_confident` where the bot answers the most turns right with at most
    1 − `answer_precision` of its answers wrong — all on the cross-validated readings. Returns it with its
    cross-validated figures beside reading every turn alone."""
    examples = gate_examples(model, conversations)
    features, continues = np.array(examples.features), np.array(examples.continues)
    if continues.all() or not continues.any():
        raise ContextGateError("the conversations need turns that continue the previous intent and turns that do not")
    split = GroupKFold(n_splits=min(folds, len(set(examples.groups))))
    held_out: dict[float, np.ndarray] = {}
    for c in C_VALUES:
        estimator = LogisticRegression(C=c, max_iter=2000)
        held_out[c] = cross_val_predict(
            estimator, features, continues, cv=split, groups=examples.groups, method="predict_proba"
        )[:, 1]
    log_loss = {c: float(-np.mean(np.log(np.where(continues, p, 1 - p).clip(1e-12)))) for c, p in held_out.items()}
    best = min(C_VALUES, key=lambda c: log_loss[c])
    outcomes = [
        _level_outcome(examples, held_out[best], level, model.answer_threshold, answer_precision)
        for level in ALONE_CONFIDENT
    ]
    chosen = _best_level(outcomes, answer_precision)
    alone = _level_outcome(examples, np.zeros(len(continues)), 0.0, model.answer_threshold, answer_precision)
    fitted = LogisticRegression(C=best, max_iter=2000).fit(features, continues)
    weights = tuple(float(w) for w in fitted.coef_[0])
    gate = ContextGate(weights, float(fitted.intercept_[0]), chosen.alone_confident, chosen.answer_threshold)
    report = {
        "source": source,
        "conversations": len(set(examples.groups)),
        "examples": len(continues),
        "features": list(CONTEXT_FEATURES),
        "C": best,
        "objective": "C: least cross-validated log-loss of continuation; answer_threshold: lowest confidence with "
        f"≥{answer_precision:.0%} of readings in context right; alone_confident: most turns answered right with "
        f"≤{1 - answer_precision:.0%} of answers wrong",
        "cross_validated_log_loss": round(log_loss[best], 4),
        "cross_validated_accuracy_in_context": round(_accuracy(chosen.readings), 4),
        "accuracy_alone": round(_accuracy(alone.readings), 4),
        "readings_in_context": sum(reading.in_context for reading in chosen.readings),
        "answered_in_context": round(len(chosen.answered) / len(chosen.readings), 4),
        "answered_wrong_in_context": round(chosen.wrong_share, 4),
        "answered_alone": round(len(alone.answered) / len(alone.readings), 4),
        "answered_wrong_alone": round(alone.wrong_share, 4),
    }
    return gate, report
