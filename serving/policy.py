"""Decide what the widget does with a prediction: answer, suggest articles, or hand off to a person."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from deflect.retrieval.index import ArticleHit
from deflect.training.model import IntentPrediction


class Decision(StrEnum):
    BOT_ANSWER = "bot_answer"
    SUGGEST_ARTICLES = "suggest_articles"
    HANDOFF = "handoff"


class ReasonCode(StrEnum):
    OUT_OF_SCOPE = "out_of_scope"
    HANDOFF_INTENT = "handoff_intent"
    CONFIDENT = "confident"
    LOW_CONFIDENCE = "low_confidence"
    NO_ARTICLE = "no_article"


@dataclass(frozen=True)
class PolicyOutcome:
    decision: Decision
    reason_code: ReasonCode
    reason: str


@dataclass(frozen=True)
class DecisionPolicy:
    answer_threshold: float
    out_of_scope_threshold: float
    handoff_intents: Collection[str]

    def decide(self, prediction: IntentPrediction, intent_name: str, hits: list[ArticleHit]) -> PolicyOutcome:
        confidence = f"{prediction.confidence:.2f}"
        if prediction.out_of_scope:
            return PolicyOutcome(
                Decision.HANDOFF,
                ReasonCode.OUT_OF_SCOPE,
                f"The message matches no known topic well enough (best: '{intent_name}' at {confidence}; "
                f"in-scope score {prediction.in_scope_score:.2f} is below the threshold "
                f"{self.out_of_scope_threshold:.2f}).",
            )
        if prediction.intent in self.handoff_intents:
            return PolicyOutcome(
                Decision.HANDOFF,
                ReasonCode.HANDOFF_INTENT,
                f"'{intent_name}' ({confidence}) is always handled by a person.",
            )
        if not hits:
            return PolicyOutcome(
                Decision.HANDOFF, ReasonCode.NO_ARTICLE, f"No help-center article matches '{intent_name}'."
            )
        if prediction.confidence >= self.answer_threshold:
            return PolicyOutcome(
                Decision.BOT_ANSWER,
                ReasonCode.CONFIDENT,
                f"Confident the customer asks about '{intent_name}' ({confidence} ≥ {self.answer_threshold:.2f}).",
            )
        return PolicyOutcome(
            Decision.SUGGEST_ARTICLES,
            ReasonCode.LOW_CONFIDENCE,
            f"Probably '{intent_name}', but not sure enough to answer ({confidence} < {self.answer_threshold:.2f}); "
            "suggesting articles.",
        )
