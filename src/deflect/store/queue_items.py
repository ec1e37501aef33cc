"""What enters the review queue and in which order (reasons, priority), and the shapes the queue is read in: entries,
item details with their conversation, labels, filters and pages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deflect.core.vocabulary import (
    LOW_CONFIDENCE_REASON_CODES,
    URGENT_HANDOFF_REASON_CODES,
    Decision,
    LabelAction,
    QueueReason,
)
from deflect.store.events import SuggestionRecord, as_utc
from deflect.store.tables import ReviewItem, ReviewLabel, StoredSuggestion


@dataclass(frozen=True)
class Reviewer:
    name: str
    key_id: str


def queue_reasons(record: SuggestionRecord) -> list[QueueReason]:
    reasons = []
    if record.decision == Decision.HANDOFF:
        reasons.append(QueueReason.HANDOFF)
    if record.out_of_scope:
        reasons.append(QueueReason.OUT_OF_SCOPE)
    elif record.reason_code in LOW_CONFIDENCE_REASON_CODES:
        reasons.append(QueueReason.LOW_CONFIDENCE)
    return reasons


def priority(record: SuggestionRecord | StoredSuggestion, reasons: Iterable[str], negative_feedback: int = 0) -> float:
    """Higher first. Handoffs after a struggle, then other handoffs and out-of-scope messages, then unsure answers
    (the less sure, the higher); each unhelpful or escalated feedback adds as much as a handoff."""
    reasons = set(reasons)
    score = 0.0
    if QueueReason.HANDOFF in reasons:
        score += 5.0 if record.reason_code in URGENT_HANDOFF_REASON_CODES else 3.0
    if QueueReason.OUT_OF_SCOPE in reasons:
        score += 2.0
    if QueueReason.LOW_CONFIDENCE in reasons:
        score += 1.0 + (1.0 - record.confidence)
    return round(score + 3.0 * negative_feedback + record.frustration_score, 4)


def new_queue_item(record: SuggestionRecord) -> ReviewItem | None:
    """The queue item for a suggestion being stored, if it needs a person's look."""
    reasons = queue_reasons(record)
    if not reasons:
        return None
    return ReviewItem(
        suggestion_id=record.id,
        conversation_id=record.conversation_id,
        customer_id=record.customer_id,
        created_at=record.created_at,
        reasons=[reason.value for reason in reasons],
        priority=priority(record, reasons),
        status="open",
    )


@dataclass(frozen=True)
class LabelView:
    action: str
    intent: str
    article_id: str | None
    note: str | None
    reviewer: str
    created_at: datetime


@dataclass(frozen=True)
class QueueEntry:
    id: int
    suggestion_id: str
    conversation_id: str
    created_at: datetime
    text: str
    locale: str
    intent: str
    confidence: float
    out_of_scope: bool
    alternatives: list[list[Any]]
    articles: list[str]
    decision: str
    reason_code: str
    reason: str
    frustration_score: float
    model_version: str
    reasons: list[str]
    priority: float
    status: str
    claimed_by: str | None
    label: LabelView | None


@dataclass(frozen=True)
class ConversationTurn:
    suggestion_id: str
    created_at: datetime
    text: str
    intent: str
    confidence: float
    decision: str
    reason: str
    articles: list[str]
    feedback: list[str]
    reason_code: str = ""
    clarification: dict[str, Any] | None = None  # the question this turn asked, with its options
    chosen_from: str | None = None  # the question whose option this turn chose


@dataclass(frozen=True)
class ItemDetail:
    entry: QueueEntry
    conversation: list[ConversationTurn]
    labels: list[LabelView]  # every label on this suggestion, newest first


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = "open"  # open (includes claimed), claimed, done, or None for all
    reason: str | None = None
    intent: str | None = None
    locale: str | None = None
    search: str | None = None
    claimed_by: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class QueuePage:
    total: int
    entries: list[QueueEntry]


@dataclass(frozen=True)
class LabelRequest:
    action: LabelAction
    intent: str | None = None  # correct / new_intent: the label; ignored otherwise
    article_id: str | None = None  # attach_article: the article that answers it
    note: str | None = None


def label_view(label: ReviewLabel) -> LabelView:
    return LabelView(label.action, label.intent, label.article_id, label.note, label.reviewer, as_utc(label.created_at))


def entry(item: ReviewItem, suggestion: StoredSuggestion, label: ReviewLabel | None) -> QueueEntry:
    return QueueEntry(
        id=item.id,
        suggestion_id=suggestion.id,
        conversation_id=suggestion.conversation_id,
        created_at=as_utc(suggestion.created_at),
        text=suggestion.text,
        locale=suggestion.locale,
        intent=suggestion.intent,
        confidence=suggestion.confidence,
        out_of_scope=suggestion.out_of_scope,
        alternatives=list(suggestion.alternatives),
        articles=list(suggestion.articles),
        decision=suggestion.decision,
        reason_code=suggestion.reason_code,
        reason=suggestion.reason,
        frustration_score=suggestion.frustration_score,
        model_version=suggestion.model_version,
        reasons=list(item.reasons),
        priority=item.priority,
        status=item.status,
        claimed_by=item.claimed_by,
        label=label_view(label) if label else None,
    )
