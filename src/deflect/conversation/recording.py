"""What the service made of one customer message (a `Reading`), and how it is kept: the event database's row and the
conversation state's event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from deflect.conversation.access import Caller
from deflect.conversation.clarify import Clarification, stored
from deflect.conversation.details import Detail
from deflect.conversation.pii import redact
from deflect.conversation.policy import ConversationSignals, PolicyOutcome
from deflect.conversation.results import BotAnswer, CustomerMessage
from deflect.conversation.signals import FrustrationSignal
from deflect.conversation.state import Event, HistoryEvent, OpenedEvent, SuggestionEvent, packed_vector
from deflect.conversation.suggester import Analysis
from deflect.core.vocabulary import Decision
from deflect.retrieval.index import ArticleHit
from deflect.store.events import SuggestionRecord
from deflect.store.outbox import new_delivery
from deflect.store.tables import OutboxDelivery


@dataclass(frozen=True)
class Reading:
    """A message understood: `said` is what the customer wrote, or the label of the option they chose (redacted
    before it is kept); `analysis` is of the text the decision rests on (the question's, for a chosen option)."""

    said: str
    analysis: Analysis
    frustration: FrustrationSignal
    signals: ConversationSignals
    outcome: PolicyOutcome
    clarification: Clarification | None = None
    chosen_from: str | None = None  # the clarifying question's suggestion id

    @property
    def kept_clarification(self) -> dict[str, Any] | None:
        """The question as the event database and the conversation state keep it."""
        return stored(self.clarification) if self.clarification else None

    @property
    def shown(self) -> list[ArticleHit]:
        """The articles the customer sees: none beside a question (its options say which article answers each)."""
        return [] if self.outcome.decision is Decision.CLARIFY else self.analysis.hits


def suggestion_record(
    suggestion_id: str,
    conversation_id: str,
    request: CustomerMessage,
    reading: Reading,
    redacted: str,
    model_version: str,
    index_version: str,
) -> SuggestionRecord:
    prediction, outcome = reading.analysis.prediction, reading.outcome
    return SuggestionRecord(
        id=suggestion_id,
        conversation_id=conversation_id,
        customer_id=request.customer_id,
        text=redacted,
        locale=reading.analysis.locale,
        intent=prediction.intent,
        confidence=prediction.confidence,
        out_of_scope=prediction.out_of_scope,
        alternatives=list(prediction.top_intents),
        articles=[hit.article.id for hit in reading.shown],
        decision=outcome.decision.value,
        reason_code=outcome.reason_code.value,
        reason=outcome.reason,
        frustration_score=reading.frustration.score,
        model_version=model_version,
        index_version=index_version,
        channel=request.channel,
        clarification=reading.kept_clarification,
        chosen_from=reading.chosen_from,
    )


def suggestion_event(
    suggestion_id: str,
    request: CustomerMessage,
    reading: Reading,
    redacted: str,
    answer: BotAnswer | None,
    page_url: str | None,
    details: list[Detail],
) -> SuggestionEvent:
    analysis, outcome = reading.analysis, reading.outcome
    prediction = analysis.prediction
    return SuggestionEvent(
        suggestion_id=suggestion_id,
        text=redacted,
        locale=analysis.locale,
        intent=prediction.intent,
        intent_name=analysis.intent_name,
        confidence=prediction.confidence,
        out_of_scope=prediction.out_of_scope,
        alternatives=list(prediction.top_intents),
        articles=[{"id": h.article.id, "title": h.article.title, "url": h.article.url} for h in reading.shown],
        decision=outcome.decision.value,
        reason_code=outcome.reason_code.value,
        reason=outcome.reason,
        frustration_score=reading.frustration.score,
        frustration_cues=list(reading.frustration.cues),
        answer=answer.text if answer else None,
        answer_article=answer.article_id if answer else None,
        channel=request.channel,
        page_url=page_url,
        clarification=reading.kept_clarification,
        chosen_from=reading.chosen_from,
        details=[detail.as_dict() for detail in details],
        # a chosen option's reading rests on the question's text, stored redacted; any other on what was said
        vector=packed_vector(analysis.vector) if analysis.text == redacted or reading.chosen_from else None,
    )


def opening_events(request: CustomerMessage, caller: Caller) -> list[Event]:
    """What a new conversation starts with: who opened it, and the earlier turns the widget sent (redacted)."""
    events: list[Event] = [OpenedEvent(owner=caller.key_id)]
    if request.history:
        turns = [{"role": str(turn.role), "text": redact(turn.text)} for turn in request.history]
        events.append(HistoryEvent(turns))
    return events


def handoff_delivery(
    delivery_id: str, record: SuggestionRecord, payload: dict[str, Any], target: str
) -> OutboxDelivery:
    """The outbox row that sends a conversation's handoff package to `target` (the webhook, Zendesk, …), with the
    customer id the caller gave (a helpdesk's requester)."""
    if record.customer_id:
        payload = {**payload, "customer_id": record.customer_id}
    return new_delivery(delivery_id, "handoff", target, record.id, record.conversation_id, record.customer_id, payload)


def reply_delivery(delivery_id: str, record: SuggestionRecord, target: str, payload: dict[str, Any]) -> OutboxDelivery:
    """The outbox row that sends a suggestion's answer to the channel the message came from (Chatwoot, …)."""
    return new_delivery(delivery_id, "reply", target, record.id, record.conversation_id, record.customer_id, payload)


def stored_page_url(url: str | None) -> str | None:
    """The page without its query string, fragment or credentials: those carry tokens, e-mails and order numbers."""
    if url is None:
        return None
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
