"""Fitting the context gate (deflect.intent.context) on labelled conversations: for every customer turn after the
first (out-of-scope ones too: they never continue), the turn read alone and joined to the previous one, with the
previous turn's intent as the conversation would have settled it — for certain (the customer chose it, or the bot
answered it) and as the previous reading's top intents (nothing settled) — and whether the turn continues that
intent. Conversations of the `test` split are never read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_predict

from deflect.core.text import normalize_text
from deflect.ingest.conversations import LabelledConversation
from deflect.intent.context import CONTEXT_FEATURES, CONTINUES, ContextGate, blend, context_features, says_it_alone
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
    # alone, joined, prior, the alone reading's in-scope score minus the threshold, the turn's intent (-1: out of scope)
    readings: list[tuple[np.ndarray, np.ndarray, np.ndarray, float, int]]


class ContextGateError(ValueError):
    pass


def _top(row: np.ndarray, count: int) -> np.ndarray:
    kept = np.zeros_like(row)
    order = np.argsort(-row)[:count]
    kept[order] = row[order]
    return kept / kept.sum()


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
    distributions, scores = model.distributions(texts, model.encode(texts))
    previous_readings, _ = model.distributions(previous_texts, model.encode(previous_texts))
    scores = scores - model.out_of_scope_threshold
    examples = GateExamples([], [], [], [])
    for index, (group, turn, previous) in enumerate(pairs):
        alone, joined = distributions[2 * index], distributions[2 * index + 1]
        certain = np.zeros(len(model.intents))
        certain[column[previous.intent]] = 1.0
        for prior in (certain, _top(previous_readings[index], PREVIOUS_TOP_INTENTS)):
            examples.features.append(
                context_features(alone, joined, scores[2 * index], scores[2 * index + 1], prior, len(turn.text))
            )
            examples.continues.append(turn.intent == previous.intent)
            examples.groups.append(group)
            examples.readings.append((alone, joined, prior, float(scores[2 * index]), column.get(turn.intent, -1)))
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
    for (alone, joined, prior, alone_in_scope, intent), g in zip(examples.readings, continuation, strict=True):
        if says_it_alone(gate, alone, alone_in_scope):
            readings.append(HeldOutReading(False, float(alone.max()), int(np.argmax(alone)) == intent))
        elif g < CONTINUES and alone_in_scope < 0:
            readings.append(HeldOutReading(False, 0.0, intent < 0))
        else:
            blended = blend(alone, joined, prior, float(g))
            readings.append(HeldOutReading(True, float(blended.max()), int(np.argmax(blended)) == intent))
    return readings


def _accuracy(readings: list[HeldOutReading]) -> float:
    return float(np.mean([reading.right for reading in readings]))


def fit_context_gate(
    model: IntentModel,
    conversations: list[LabelledConversation],
    source: str,
    folds: int = 5,
    answer_precision: float = 0.95,
) -> tuple[ContextGate, dict]:
    """The gate with the C that predicts continuations best (log-loss, conversations kept whole across folds),
    refitted on every example; `alone_confident` where the most turns are read right; and the answer threshold of
    readings in context: the lowest confidence with `answer_precision` of them right — all on the cross-validated
    readings. Returns it with its cross-validated figures beside reading every turn alone."""
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
    alone_confident = max(
        ALONE_CONFIDENT, key=lambda level: (_accuracy(_readings(examples, held_out[best], level)), -level)
    )
    readings = _readings(examples, held_out[best], alone_confident)
    in_context = [reading for reading in readings if reading.in_context]
    answer_threshold = choose_answer_threshold(
        np.array([reading.confidence for reading in in_context]),
        np.array([reading.right for reading in in_context]),
        answer_precision,
    )
    fitted = LogisticRegression(C=best, max_iter=2000).fit(features, continues)
    weights = tuple(float(w) for w in fitted.coef_[0])
    gate = ContextGate(weights, float(fitted.intercept_[0]), alone_confident, answer_threshold)
    answered = [reading for reading in in_context if reading.confidence >= answer_threshold]
    report = {
        "source": source,
        "conversations": len(set(examples.groups)),
        "examples": len(continues),
        "features": list(CONTEXT_FEATURES),
        "C": best,
        "objective": "C: least cross-validated log-loss of continuation; alone_confident: most turns read right; "
        f"answer_threshold: lowest confidence with ≥{answer_precision:.0%} of readings in context right",
        "cross_validated_log_loss": round(log_loss[best], 4),
        "cross_validated_accuracy_in_context": round(_accuracy(readings), 4),
        "accuracy_alone": round(_accuracy(_readings(examples, np.zeros(len(continues)), 0.0)), 4),
        "readings_in_context": len(in_context),
        "answerable_in_context": round(len(answered) / max(len(in_context), 1), 4),
        "answerable_right": round(_accuracy(answered), 4) if answered else 0.0,
    }
    return gate, report
