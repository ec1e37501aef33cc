"""The review queue: suggestions a person should look at (handed off, low confidence, out of scope, or answered
with negative feedback), ordered by priority; claims; labels set by reviewers; the audit trail; the analytics the
review page charts. Shares the event database (and its engine) with `EventStore`."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session

from deflect.core.records import OUT_OF_SCOPE
from deflect.store.events import EventStore, StoredFeedback, StoredSuggestion, SuggestionRecord, as_utc
from deflect.store.review_tables import AuditEntry, ReviewItem, ReviewLabel, newest_labels

CLAIM_EXPIRES = timedelta(minutes=30)  # a claim nobody acted on for this long is free to take


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


NEGATIVE_FEEDBACK = frozenset({"not_helpful", "escalated"})
LOW_CONFIDENCE_REASON_CODES = frozenset({"low_confidence", "no_article"})
# Customers who had to fight the bot first; their conversations teach the most.
URGENT_HANDOFF_REASON_CODES = frozenset({"frustrated", "repeated_unhelpful"})


class ReviewError(ValueError):
    """A review request that cannot be carried out as asked (unknown intent, missing label, …)."""


class ItemNotFound(LookupError):
    pass


class ClaimConflict(RuntimeError):
    pass


@dataclass(frozen=True)
class Reviewer:
    name: str
    key_id: str


def queue_reasons(record: SuggestionRecord) -> list[QueueReason]:
    reasons = []
    if record.decision == "handoff":
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


@dataclass(frozen=True)
class DayCounts:
    day: str
    suggestions: int
    bot_answers: int
    handoffs: int
    deflected_conversations: int
    conversations: int


@dataclass(frozen=True)
class Analytics:
    since: datetime
    suggestions: int
    conversations: int
    deflection_rate: float | None  # conversations that ended without a handoff or an escalation
    handoff_rate: float | None  # suggestions that were handoffs
    bot_answer_rate: float | None
    handoffs_by_reason: dict[str, int]
    top_intents: list[tuple[str, int]]
    feedback: dict[str, int]
    feedback_rates: dict[str, float]  # share of suggestions that got each feedback
    per_day: list[DayCounts]
    queue: dict[str, int] = field(default_factory=dict)  # open / claimed / done


def _label_view(label: ReviewLabel) -> LabelView:
    return LabelView(label.action, label.intent, label.article_id, label.note, label.reviewer, as_utc(label.created_at))


def _entry(item: ReviewItem, suggestion: StoredSuggestion, label: ReviewLabel | None) -> QueueEntry:
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
        label=_label_view(label) if label else None,
    )


class ReviewStore:
    def __init__(self, events: EventStore):
        self.events = events

    # --- the queue ---------------------------------------------------------------------------------------------

    def note_feedback(self, suggestion_id: str, feedback: str) -> None:
        """Negative feedback puts its suggestion in the queue (or raises its priority there)."""
        if feedback not in NEGATIVE_FEEDBACK:
            return
        with self.events.session() as session:
            suggestion = session.get(StoredSuggestion, suggestion_id)
            if suggestion is None:
                return
            item = session.scalar(select(ReviewItem).where(ReviewItem.suggestion_id == suggestion_id))
            negative = session.scalar(
                select(func.count())
                .select_from(StoredFeedback)
                .where(StoredFeedback.suggestion_id == suggestion_id, StoredFeedback.feedback.in_(NEGATIVE_FEEDBACK))
            )
            if item is None:
                item = ReviewItem(
                    suggestion_id=suggestion_id,
                    conversation_id=suggestion.conversation_id,
                    customer_id=suggestion.customer_id,
                    created_at=suggestion.created_at,
                    reasons=[],
                    priority=0.0,
                    status="open",
                )
                session.add(item)
            reasons = list(item.reasons)
            if QueueReason.NEGATIVE_FEEDBACK.value not in reasons:
                reasons.append(QueueReason.NEGATIVE_FEEDBACK.value)
            item.reasons = reasons
            item.priority = priority(suggestion, reasons, int(negative or 0))

    def queue(self, query: QueueFilter) -> QueuePage:
        with self.events.session() as session:
            statement = select(ReviewItem, StoredSuggestion).join(
                StoredSuggestion, StoredSuggestion.id == ReviewItem.suggestion_id
            )
            if query.status == "open":
                statement = statement.where(ReviewItem.status.in_(("open", "claimed")))
            elif query.status:
                statement = statement.where(ReviewItem.status == query.status)
            if query.reason:
                # JSON arrays: match the quoted reason inside the stored list on both SQLite and PostgreSQL
                statement = statement.where(cast(ReviewItem.reasons, Text).contains(f'"{query.reason}"'))
            if query.intent:
                statement = statement.where(StoredSuggestion.intent == query.intent)
            if query.locale:
                statement = statement.where(StoredSuggestion.locale == query.locale)
            if query.claimed_by:
                statement = statement.where(ReviewItem.claimed_by == query.claimed_by)
            if query.search:
                statement = statement.where(StoredSuggestion.text.ilike(f"%{_escape_like(query.search)}%", escape="\\"))
            total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
            rows = session.execute(
                statement.order_by(ReviewItem.priority.desc(), ReviewItem.created_at, ReviewItem.id)
                .limit(query.limit)
                .offset(query.offset)
            ).all()
            labels = _newest_labels(session, [suggestion.id for _, suggestion in rows])
            return QueuePage(int(total), [_entry(item, s, labels.get(s.id)) for item, s in rows])

    def item(self, item_id: int) -> ItemDetail:
        with self.events.session() as session:
            item, suggestion = self._item_row(session, item_id)
            turns = session.scalars(
                select(StoredSuggestion)
                .where(StoredSuggestion.conversation_id == suggestion.conversation_id)
                .order_by(StoredSuggestion.created_at)
            ).all()
            feedback: dict[str, list[str]] = defaultdict(list)
            for row in session.scalars(
                select(StoredFeedback)
                .where(StoredFeedback.conversation_id == suggestion.conversation_id)
                .order_by(StoredFeedback.id)
            ):
                feedback[row.suggestion_id].append(row.feedback)
            labels = session.scalars(
                select(ReviewLabel)
                .where(ReviewLabel.suggestion_id == suggestion.id)
                .order_by(ReviewLabel.created_at.desc(), ReviewLabel.id.desc())
            ).all()
            conversation = [
                ConversationTurn(
                    t.id,
                    as_utc(t.created_at),
                    t.text,
                    t.intent,
                    t.confidence,
                    t.decision,
                    t.reason,
                    list(t.articles),
                    feedback.get(t.id, []),
                )
                for t in turns
            ]
            return ItemDetail(
                _entry(item, suggestion, labels[0] if labels else None),
                conversation,
                [_label_view(label) for label in labels],
            )

    def claim(self, item_ids: Sequence[int], reviewer: Reviewer) -> list[int]:
        """Claim items for `reviewer`; refuses (changing nothing) if another reviewer holds a live claim on one."""
        now = datetime.now(UTC)
        with self.events.session() as session:
            items = [self._item_row(session, item_id)[0] for item_id in item_ids]
            _refuse_if_held_by_others(items, reviewer, now)
            for item in items:
                if item.status != "done":
                    item.status, item.claimed_by, item.claimed_at = "claimed", reviewer.name, now
            self._audit(session, reviewer, "claim", _targets(item_ids), {})
            return [item.id for item in items]

    def release(self, item_ids: Sequence[int], reviewer: Reviewer) -> None:
        with self.events.session() as session:
            for item_id in item_ids:
                item = self._item_row(session, item_id)[0]
                if item.status == "claimed" and item.claimed_by == reviewer.name:
                    item.status, item.claimed_by, item.claimed_at = "open", None, None
            self._audit(session, reviewer, "release", _targets(item_ids), {})

    def label(
        self,
        item_ids: Sequence[int],
        request: LabelRequest,
        reviewer: Reviewer,
        known_intents: Collection[str] = frozenset(),
    ) -> list[LabelView]:
        """Label each item (a bulk action when several); each gets its own label row and leaves the queue.
        `known_intents` (the served model's) tell a correction from a new intent."""
        if not item_ids:
            raise ReviewError("no items to label")
        now = datetime.now(UTC)
        with self.events.session() as session:
            rows = [self._item_row(session, item_id) for item_id in item_ids]
            _refuse_if_held_by_others([item for item, _ in rows], reviewer, now)
            views = []
            for item, suggestion in rows:
                intent = _label_intent(request, suggestion, known_intents)
                label = ReviewLabel(
                    suggestion_id=suggestion.id,
                    conversation_id=suggestion.conversation_id,
                    customer_id=suggestion.customer_id,
                    created_at=now,
                    text=suggestion.text,
                    locale=suggestion.locale,
                    predicted_intent=suggestion.intent,
                    model_version=suggestion.model_version,
                    action=request.action.value,
                    intent=intent,
                    article_id=request.article_id,
                    note=request.note,
                    reviewer=reviewer.name,
                    reviewer_key_id=reviewer.key_id,
                )
                session.add(label)
                item.status, item.claimed_by, item.claimed_at = "done", reviewer.name, now
                views.append(_label_view(label))
            details = {"action": request.action.value, "intent": views[0].intent, "article_id": request.article_id}
            self._audit(session, reviewer, "label" if len(rows) == 1 else "bulk_label", _targets(item_ids), details)
            return views

    def _item_row(self, session: Session, item_id: int) -> tuple[ReviewItem, StoredSuggestion]:
        row = session.execute(
            select(ReviewItem, StoredSuggestion)
            .join(StoredSuggestion, StoredSuggestion.id == ReviewItem.suggestion_id)
            .where(ReviewItem.id == item_id)
        ).first()
        if row is None:
            raise ItemNotFound(f"no review item {item_id}")
        return row[0], row[1]

    def texts_for_clustering(self, limit: int = 2000) -> list[QueueEntry]:
        """Open out-of-scope and low-confidence items, newest first: what the unmet-needs view clusters."""
        with self.events.session() as session:
            rows = session.execute(
                select(ReviewItem, StoredSuggestion)
                .join(StoredSuggestion, StoredSuggestion.id == ReviewItem.suggestion_id)
                .where(ReviewItem.status.in_(("open", "claimed")))
                .where(
                    or_(
                        StoredSuggestion.out_of_scope.is_(True),
                        StoredSuggestion.reason_code.in_(LOW_CONFIDENCE_REASON_CODES),
                    )
                )
                .order_by(ReviewItem.created_at.desc())
                .limit(limit)
            ).all()
            return [_entry(item, suggestion, None) for item, suggestion in rows]

    def proposed_intents(self) -> list[str]:
        """Intents reviewers proposed with `new_intent`, most used first."""
        with self.events.session() as session:
            rows = session.execute(
                select(ReviewLabel.intent, func.count())
                .where(ReviewLabel.action == LabelAction.NEW_INTENT.value)
                .group_by(ReviewLabel.intent)
                .order_by(func.count().desc(), ReviewLabel.intent)
            ).all()
            return [intent for intent, _ in rows]

    # --- audit -------------------------------------------------------------------------------------------------

    def _audit(self, session: Session, actor: Reviewer, action: str, target: str, details: dict[str, Any]) -> None:
        session.add(
            AuditEntry(
                at=datetime.now(UTC),
                actor=actor.name,
                actor_key_id=actor.key_id,
                action=action,
                target=target,
                details=details,
            )
        )

    def record_audit(self, actor: Reviewer, action: str, target: str, details: dict[str, Any]) -> None:
        with self.events.session() as session:
            self._audit(session, actor, action, target, details)

    def audit_trail(self, actor: str | None = None, limit: int = 200, offset: int = 0) -> list[AuditEntry]:
        statement = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        if actor:
            statement = statement.where(AuditEntry.actor == actor)
        with self.events.session() as session:
            return list(session.scalars(statement.limit(limit).offset(offset)))

    # --- analytics ---------------------------------------------------------------------------------------------

    def analytics(self, days: int = 30, now: datetime | None = None) -> Analytics:
        now = now or datetime.now(UTC)
        since = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
        with self.events.session() as session:
            suggestions = session.execute(
                select(
                    StoredSuggestion.id,
                    StoredSuggestion.conversation_id,
                    StoredSuggestion.created_at,
                    StoredSuggestion.decision,
                    StoredSuggestion.reason_code,
                    StoredSuggestion.intent,
                    StoredSuggestion.out_of_scope,
                ).where(StoredSuggestion.created_at >= since)
            ).all()
            feedback_rows = session.execute(
                select(StoredFeedback.suggestion_id, StoredFeedback.conversation_id, StoredFeedback.feedback).where(
                    StoredFeedback.created_at >= since
                )
            ).all()
            queue = dict(
                session.execute(select(ReviewItem.status, func.count()).group_by(ReviewItem.status)).tuples().all()
            )
        escalated = {row.conversation_id for row in feedback_rows if row.feedback == "escalated"}
        handed_off = {row.conversation_id for row in suggestions if row.decision == "handoff"} | escalated
        conversations = {row.conversation_id for row in suggestions}
        first_day: dict[str, str] = {}
        for row in sorted(suggestions, key=lambda r: as_utc(r.created_at)):
            first_day.setdefault(row.conversation_id, as_utc(row.created_at).date().isoformat())
        per_day = []
        for offset in range(days):
            day = (since + timedelta(days=offset)).date().isoformat()
            rows = [row for row in suggestions if as_utc(row.created_at).date().isoformat() == day]
            started = [c for c, first in first_day.items() if first == day]
            per_day.append(
                DayCounts(
                    day=day,
                    suggestions=len(rows),
                    bot_answers=sum(row.decision == "bot_answer" for row in rows),
                    handoffs=sum(row.decision == "handoff" for row in rows),
                    deflected_conversations=sum(c not in handed_off for c in started),
                    conversations=len(started),
                )
            )
        total = len(suggestions)
        feedback = Counter(row.feedback for row in feedback_rows)
        intents = Counter(OUT_OF_SCOPE if row.out_of_scope else row.intent for row in suggestions)
        return Analytics(
            since=since,
            suggestions=total,
            conversations=len(conversations),
            deflection_rate=_share(len(conversations - handed_off), len(conversations)),
            handoff_rate=_share(sum(row.decision == "handoff" for row in suggestions), total),
            bot_answer_rate=_share(sum(row.decision == "bot_answer" for row in suggestions), total),
            handoffs_by_reason=dict(Counter(row.reason_code for row in suggestions if row.decision == "handoff")),
            top_intents=intents.most_common(10),
            feedback=dict(feedback),
            feedback_rates={name: round(count / total, 4) for name, count in feedback.items()} if total else {},
            per_day=per_day,
            queue={status: int(count) for status, count in queue.items()},
        )


def _label_intent(request: LabelRequest, suggestion: StoredSuggestion, known_intents: Collection[str]) -> str:
    """The intent a label sets: the prediction when confirming, `out_of_scope`, or the reviewer's intent."""
    action = request.action
    if action is LabelAction.OUT_OF_SCOPE:
        return OUT_OF_SCOPE
    if action in (LabelAction.CONFIRM, LabelAction.ATTACH_ARTICLE):
        if action is LabelAction.ATTACH_ARTICLE and not request.article_id:
            raise ReviewError("attach_article needs an article_id")
        if suggestion.out_of_scope and action is LabelAction.CONFIRM:
            return OUT_OF_SCOPE  # confirming an out-of-scope prediction
        return suggestion.intent
    intent = (request.intent or "").strip()
    if not intent:
        raise ReviewError(f"{action.value} needs an intent")
    if intent == OUT_OF_SCOPE:
        raise ReviewError(f"use the out_of_scope action rather than the intent '{OUT_OF_SCOPE}'")
    if action is LabelAction.CORRECT and known_intents and intent not in known_intents:
        raise ReviewError(f"'{intent}' is not one of the model's intents; propose it with new_intent")
    if action is LabelAction.NEW_INTENT and intent in known_intents:
        raise ReviewError(f"'{intent}' already exists; use correct")
    return intent


def _refuse_if_held_by_others(items: Iterable[ReviewItem], reviewer: Reviewer, now: datetime) -> None:
    """Another reviewer's live claim (younger than CLAIM_EXPIRES) keeps an item from being claimed or labelled."""
    for item in items:
        held = item.status == "claimed" and item.claimed_by not in (None, reviewer.name)
        if held and item.claimed_at and now - as_utc(item.claimed_at) < CLAIM_EXPIRES:
            raise ClaimConflict(f"item {item.id} is claimed by {item.claimed_by}")


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _targets(item_ids: Sequence[int]) -> str:
    text = "items " + ",".join(str(item_id) for item_id in item_ids)
    return text if len(text) <= 200 else text[:197] + "…"


def _newest_labels(session: Session, suggestion_ids: list[str]) -> dict[str, ReviewLabel]:
    """The label that counts (`newest_labels`) for each of these suggestions that has one."""
    if not suggestion_ids:
        return {}
    statement = newest_labels().where(ReviewLabel.suggestion_id.in_(suggestion_ids))
    return {label.suggestion_id: label for label in session.scalars(statement)}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
