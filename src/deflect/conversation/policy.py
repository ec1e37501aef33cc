"""Decide what the widget does with a message: answer, suggest articles, or hand off to a person.

The rules, in order: an explicit request for a person, repeated unhelpful feedback in the conversation, frustration,
an out-of-scope message, an intent always handled by people, no matching article; then a bot answer when the
calibrated confidence clears the answer threshold (the artifact's, or a per-intent override) and the intent may be
answered automatically and has an answer template; otherwise article suggestions. Every outcome has a reason code
and a readable reason."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from deflect.core.settings import Settings
from deflect.core.vocabulary import Decision, ReasonCode
from deflect.intent.model import IntentModel, IntentPrediction
from deflect.retrieval.index import ArticleHit


@dataclass(frozen=True)
class PolicyOutcome:
    decision: Decision
    reason_code: ReasonCode
    reason: str


@dataclass(frozen=True)
class ConversationSignals:
    """What the conversation says beyond the current message's intent."""

    person_request: str | None = None  # the phrase asking for a person
    frustration_cues: tuple[str, ...] = ()
    frustration_score: float = 0.0
    unhelpful_feedback: int = 0


@dataclass(frozen=True)
class DecisionPolicy:
    answer_threshold: float
    out_of_scope_threshold: float
    handoff_intents: Collection[str] = ()
    never_answer_intents: Collection[str] = ()
    intent_answer_thresholds: Mapping[str, float] = field(default_factory=dict)
    handoff_after_unhelpful: int = 2  # 0 turns the rule off
    # The detector calls a message frustrated from 0.35 (that raises a handoff's priority); handing off takes more
    # than one impatient '??' or capitalised word alone: a strong cue, or two.
    frustration_handoff_score: float | None = 0.6  # None turns the rule off

    def threshold_for(self, intent: str) -> float:
        return self.intent_answer_thresholds.get(intent, self.answer_threshold)

    def decide(
        self,
        prediction: IntentPrediction,
        intent_name: str,
        hits: list[ArticleHit],
        signals: ConversationSignals | None = None,
        *,
        has_answer: bool = True,
    ) -> PolicyOutcome:
        signals = signals or ConversationSignals()
        confidence = f"{prediction.confidence:.2f}"
        if signals.person_request:
            return PolicyOutcome(
                Decision.HANDOFF,
                ReasonCode.PERSON_REQUESTED,
                f"The customer asked for a person ('{signals.person_request}').",
            )
        if self.handoff_after_unhelpful and signals.unhelpful_feedback >= self.handoff_after_unhelpful:
            return PolicyOutcome(
                Decision.HANDOFF,
                ReasonCode.REPEATED_UNHELPFUL,
                f"{signals.unhelpful_feedback} earlier suggestions in this conversation did not help.",
            )
        frustration_threshold = self.frustration_handoff_score
        if frustration_threshold is not None and signals.frustration_score >= frustration_threshold:
            cues = ", ".join(signals.frustration_cues) or "tone"
            return PolicyOutcome(Decision.HANDOFF, ReasonCode.FRUSTRATED, f"The customer sounds frustrated ({cues}).")
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
        threshold = self.threshold_for(prediction.intent)
        if prediction.confidence < threshold:
            return PolicyOutcome(
                Decision.SUGGEST_ARTICLES,
                ReasonCode.LOW_CONFIDENCE,
                f"Probably '{intent_name}', but not sure enough to answer ({confidence} < {threshold:.2f}); "
                "suggesting articles.",
            )
        if prediction.intent in self.never_answer_intents:
            return PolicyOutcome(
                Decision.SUGGEST_ARTICLES,
                ReasonCode.NEVER_AUTO_ANSWER,
                f"'{intent_name}' ({confidence}) is never answered automatically; suggesting articles.",
            )
        if not has_answer:
            return PolicyOutcome(
                Decision.SUGGEST_ARTICLES,
                ReasonCode.NO_ANSWER_TEMPLATE,
                f"Confident about '{intent_name}' ({confidence}), but it has no answer template; suggesting articles.",
            )
        return PolicyOutcome(
            Decision.BOT_ANSWER,
            ReasonCode.CONFIDENT,
            f"Confident the customer asks about '{intent_name}' ({confidence} ≥ {threshold:.2f}).",
        )


def policy_for(settings: Settings, model: IntentModel) -> DecisionPolicy:
    """The configured rules over a model's own thresholds (an answer threshold in the settings overrides the
    model's)."""
    return DecisionPolicy(
        answer_threshold=settings.answer_threshold if settings.answer_threshold is not None else model.answer_threshold,
        out_of_scope_threshold=model.out_of_scope_threshold,
        handoff_intents=frozenset(settings.handoff_intents),
        never_answer_intents=frozenset(settings.never_answer_intents),
        intent_answer_thresholds=dict(settings.intent_answer_thresholds),
        handoff_after_unhelpful=settings.handoff_after_unhelpful,
        frustration_handoff_score=settings.frustration_handoff_score,
    )
