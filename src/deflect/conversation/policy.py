"""Decide what the widget does with a message: answer, suggest articles, or hand off to a person.

The rules, in order: an explicit request for a person, repeated unhelpful feedback in the conversation, frustration,
an out-of-scope message, an intent always handled by people, no matching article; then a clarifying question when
the top intents are too close or the confidence sits in the artifact's clarify band (a handoff once the
conversation has had as many unclear turns as allowed); then a bot answer when the calibrated confidence clears the
answer threshold (the artifact's, or a per-intent override) and the intent may be answered automatically and has an
answer template; otherwise article suggestions. An intent the customer chose from a clarifying question's options
counts as confident. Every outcome has a reason code and a readable reason."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from deflect.core.settings import Settings
from deflect.core.vocabulary import Decision, ReasonCode
from deflect.intent.model import MOST_OPTIONS, OPTION_COVERAGE, ClarifyBand, IntentModel, IntentPrediction
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
    unclear_turns: int = 0  # clarifying questions asked in a row just before this message


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
    clarify: ClarifyBand | None = None  # None: never ask
    clarify_turns: int = 2  # unclear turns (questions asked) before a handoff

    def would_clarify(self, prediction: IntentPrediction) -> ReasonCode | None:
        """Why the bot should ask rather than answer or only suggest, or None."""
        band = self.clarify
        if band is None or self.clarify_turns <= 0 or len(prediction.top_intents) < 2:
            return None
        if prediction.confidence >= self.threshold_of(prediction):
            runner_up = prediction.top_intents[1][1]
            return ReasonCode.AMBIGUOUS if prediction.confidence - runner_up < band.margin else None
        return ReasonCode.LOW_CONFIDENCE if prediction.confidence >= band.floor else None

    def threshold_of(self, prediction: IntentPrediction) -> float:
        """The intent's answer threshold, or the reading's own when that is higher (a reading in context)."""
        threshold = self.intent_answer_thresholds.get(prediction.intent, self.answer_threshold)
        return max(threshold, prediction.answer_threshold or 0.0)

    def decide(
        self,
        prediction: IntentPrediction,
        intent_name: str,
        hits: list[ArticleHit],
        signals: ConversationSignals | None = None,
        *,
        has_answer: bool = True,
        chosen: bool = False,
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
        threshold = self.threshold_of(prediction)
        unclear = None if chosen else self.would_clarify(prediction)
        if unclear is not None:
            return self._clarify(unclear, intent_name, confidence, prediction, signals)
        if not chosen and prediction.confidence < threshold:
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
        if chosen:
            return PolicyOutcome(
                Decision.BOT_ANSWER, ReasonCode.CHOSEN, f"The customer chose '{intent_name}' from the options."
            )
        return PolicyOutcome(
            Decision.BOT_ANSWER,
            ReasonCode.CONFIDENT,
            f"Confident the customer asks about '{intent_name}' ({confidence} ≥ {threshold:.2f}).",
        )

    def _clarify(
        self,
        reason_code: ReasonCode,
        intent_name: str,
        confidence: str,
        prediction: IntentPrediction,
        signals: ConversationSignals,
    ) -> PolicyOutcome:
        if signals.unclear_turns >= self.clarify_turns:
            return PolicyOutcome(
                Decision.HANDOFF,
                ReasonCode.CLARIFY_FAILED,
                f"Still unclear after {signals.unclear_turns} clarifying question(s) (best: '{intent_name}' at "
                f"{confidence}).",
            )
        if reason_code is ReasonCode.AMBIGUOUS:
            runner_up = prediction.top_intents[1]
            reason = (
                f"'{intent_name}' ({confidence}) and '{runner_up[0]}' ({runner_up[1]:.2f}) are too close to tell "
                "apart; asking the customer."
            )
        else:
            reason = f"Probably '{intent_name}', but not sure ({confidence}); asking the customer."
        return PolicyOutcome(Decision.CLARIFY, reason_code, reason)

    def rephrase_after_something_else(self, signals: ConversationSignals) -> PolicyOutcome:
        """The customer said none of the options fits: ask them to say it in other words, or hand off once the
        conversation has had as many unclear turns as allowed."""
        if signals.unclear_turns >= self.clarify_turns:
            return PolicyOutcome(
                Decision.HANDOFF,
                ReasonCode.CLARIFY_FAILED,
                f"None of the options fitted after {signals.unclear_turns} clarifying question(s).",
            )
        return PolicyOutcome(
            Decision.CLARIFY,
            ReasonCode.NOT_AMONG_OPTIONS,
            "None of the options fitted; asking the customer to rephrase.",
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
        clarify=_clarify_band(settings, model) if settings.clarify else None,
        clarify_turns=settings.clarify_turns,
    )


def _clarify_band(settings: Settings, model: IntentModel) -> ClarifyBand | None:
    """The model's band with the settings' margin and floor where they are set."""
    band = model.clarify_band
    if band is None and settings.clarify_margin is None and settings.clarify_floor is None:
        return None
    return ClarifyBand(
        margin=settings.clarify_margin if settings.clarify_margin is not None else band.margin if band else 0.0,
        floor=settings.clarify_floor if settings.clarify_floor is not None else band.floor if band else 1.01,
        option_coverage=band.option_coverage if band else OPTION_COVERAGE,
        most_options=band.most_options if band else MOST_OPTIONS,
    )
