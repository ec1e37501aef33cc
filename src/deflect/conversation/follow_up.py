"""What a message means after the previous turns: the intent the conversation had settled on (what
deflect.intent.context reads a follow-up against), and a typed reply to a clarifying question mapped to the option it
names — by its position ("두 번째요", "1번", "the second one", "마지막 거"), as "none of these" ("다른 거요",
"neither"), or by what it says ("환불이요" when a refund option was offered)."""

from __future__ import annotations

import re

from deflect.conversation.clarify import Choice
from deflect.conversation.state import Conversation, SuggestionEvent
from deflect.core.vocabulary import ClarifyStep, Decision, OptionKind, ReasonCode
from deflect.intent.context import SettledIntent
from deflect.intent.model import IntentPrediction

LAST = -1
_ORDINALS: tuple[tuple[int, str], ...] = (
    # native Korean and digits only: sino-Korean 일/이/삼 are everyday words ("이거요" is "this one")
    (0, r"첫|1|first|1st|one|top"),
    (1, r"두|둘|2|second|2nd|two|middle"),
    (2, r"세|셋|3|third|3rd|three"),
    (LAST, r"마지막|맨\s*끝|끝|last|bottom"),
)
_FILLER_BEFORE = r"(?:음+|어+|아+|그+|그럼|저는|전|제\s*건|i\s*mean|um+|uh+|the|option|number|no\.?|#)?\s*"
_FILLER_AFTER = (
    r"\s*(?:번째|번|째)?\s*(?:거|것|꺼|걸로|내용|항목|선택지)?\s*(?:요|이요|예요|이에요|입니다|이오|할게요|으로요|로요|요\.)?"
    r"\s*(?:one|option|choice|please|pls)?\s*(?:요|이요)?[\s.!~?ㅎㅋ^]*"
)
_ORDINAL_REPLIES = [
    (position, re.compile(rf"{_FILLER_BEFORE}(?:{words}){_FILLER_AFTER}", re.IGNORECASE))
    for position, words in _ORDINALS
]
_NONE_OF_THESE = re.compile(
    r"(?:다른\s*(?:거|것|문의|내용|질문|얘기|이야기)|둘\s*다\s*아니|(?:전부|다|모두)\s*아니|아무것도\s*아니|해당\s*(?:없|안)"
    r"|none\s+of\s+(?:these|them|those)|neither|something\s+else|something\s+different|not\s+(?:these|those|any))",
    re.IGNORECASE,
)
_SHORT_REPLY = 25  # characters: a longer message that merely contains "2번" or "다른 거" is a message of its own


def settled_intent(conversation: Conversation | None) -> SettledIntent | None:
    """The intent the conversation understood at its latest suggestion: the one the customer chose or the bot
    answered, for certain; otherwise the latest reading's top intents. None before the first message, or when the
    latest message was out of scope."""
    suggestions = conversation.suggestions if conversation else []
    if not suggestions:
        return None
    latest = suggestions[-1]
    chosen = latest.reason_code == ReasonCode.CHOSEN
    if latest.out_of_scope and not chosen:
        return None
    if chosen or latest.decision == Decision.BOT_ANSWER:
        return SettledIntent(latest.text, {latest.intent: 1.0}, latest.sentence_vector)
    return SettledIntent(latest.text, dict(latest.alternatives) or {latest.intent: 1.0}, latest.sentence_vector)


def open_question(conversation: Conversation | None) -> SuggestionEvent | None:
    """The conversation's latest suggestion when it asked the customer to choose among options."""
    latest = conversation.suggestions[-1] if conversation and conversation.suggestions else None
    if latest is None or latest.decision != Decision.CLARIFY or not latest.clarification:
        return None
    return latest if latest.clarification["step"] == ClarifyStep.CHOOSE else None


def typed_choice(
    text: str, question: SuggestionEvent, reply: IntentPrediction, least_confidence: float
) -> Choice | None:
    """The option `text` (the customer's typed reply to `question`) names, if any; `reply` is the reply read alone
    by the model: its best intent is the answer when it was offered and read at `least_confidence` (the answer
    threshold: a reply that says little alone is read in context instead, as any other message)."""
    intents = [option["intent"] for option in question.offered if option["kind"] == OptionKind.INTENT]
    short = len(text.strip()) <= _SHORT_REPLY
    if short:
        for position, pattern in _ORDINAL_REPLIES:
            if pattern.fullmatch(text.strip()) and (position == LAST or position < len(intents)):
                return Choice(question.suggestion_id, OptionKind.INTENT, intents[position])
        if _NONE_OF_THESE.search(text):
            return Choice(question.suggestion_id, OptionKind.SOMETHING_ELSE)
    if not reply.out_of_scope and reply.intent in intents and reply.confidence >= least_confidence:
        return Choice(question.suggestion_id, OptionKind.INTENT, reply.intent)
    return None
