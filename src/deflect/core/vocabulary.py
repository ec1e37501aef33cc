"""The words every layer shares: what the bot decided and why, what a customer said of a suggestion, why a
suggestion is in the review queue and what a reviewer did with it. The policy decides in these terms, the store keeps
their values, the API documents them and the review page shows them."""

from __future__ import annotations

from enum import StrEnum


class Decision(StrEnum):
    BOT_ANSWER = "bot_answer"
    SUGGEST_ARTICLES = "suggest_articles"
    CLARIFY = "clarify"  # ask the customer which of a few intents they mean, or to rephrase
    HANDOFF = "handoff"


class ReasonCode(StrEnum):
    PERSON_REQUESTED = "person_requested"
    REPEATED_UNHELPFUL = "repeated_unhelpful"
    FRUSTRATED = "frustrated"
    OUT_OF_SCOPE = "out_of_scope"
    HANDOFF_INTENT = "handoff_intent"
    NO_ARTICLE = "no_article"
    CONFIDENT = "confident"
    NEVER_AUTO_ANSWER = "never_auto_answer"
    NO_ANSWER_TEMPLATE = "no_answer_template"
    LOW_CONFIDENCE = "low_confidence"
    AMBIGUOUS = "ambiguous"  # confident enough, but the runner-up is too close
    NOT_AMONG_OPTIONS = "not_among_options"  # the customer chose "something else"
    CHOSEN = "chosen"  # the customer chose the intent from a clarifying question's options
    CLARIFY_FAILED = "clarify_failed"  # still unclear after the clarifying questions allowed


class ClarifyStep(StrEnum):
    CHOOSE = "choose"  # pick one of the options
    REPHRASE = "rephrase"  # say it in other words


class OptionKind(StrEnum):
    INTENT = "intent"
    SOMETHING_ELSE = "something_else"
    PERSON = "person"


class FeedbackKind(StrEnum):
    HELPFUL = "helpful"
    NOT_HELPFUL = "not_helpful"
    RESOLVED = "resolved"
    ESCALATED = "escalated"


# feedback that says a suggestion did not help: it counts towards a handoff and puts the suggestion up for review
UNHELPFUL = frozenset({FeedbackKind.NOT_HELPFUL, FeedbackKind.ESCALATED})
# reason codes that mean the model was not sure enough: such suggestions go to the review queue
LOW_CONFIDENCE_REASON_CODES = frozenset(
    {ReasonCode.LOW_CONFIDENCE, ReasonCode.AMBIGUOUS, ReasonCode.NOT_AMONG_OPTIONS, ReasonCode.NO_ARTICLE}
)
# customers who had to fight the bot first; their conversations teach the most
URGENT_HANDOFF_REASON_CODES = frozenset(
    {ReasonCode.FRUSTRATED, ReasonCode.REPEATED_UNHELPFUL, ReasonCode.CLARIFY_FAILED}
)


class QueueReason(StrEnum):
    HANDOFF = "handoff"
    LOW_CONFIDENCE = "low_confidence"
    OUT_OF_SCOPE = "out_of_scope"
    NEGATIVE_FEEDBACK = "negative_feedback"


class LabelAction(StrEnum):
    CONFIRM = "confirm"
    CORRECT = "correct"
    OUT_OF_SCOPE = "out_of_scope"
    NEW_INTENT = "new_intent"
    ATTACH_ARTICLE = "attach_article"
    CUSTOMER_CHOICE = "customer_choice"  # the customer picked the intent from a clarifying question


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TurnRole(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
