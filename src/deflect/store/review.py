"""The review queue: suggestions a person should look at (handed off, low confidence, out of scope, or answered
with negative feedback), ordered by priority; claims; labels set by reviewers; the audit trail (the analytics the
review page charts are in deflect.store.analytics). Shares the event database (and its engine) with `EventStore`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session

from deflect.core.records import OUT_OF_SCOPE
from deflect.core.vocabulary import LOW_CONFIDENCE_REASON_CODES, UNHELPFUL, LabelAction, QueueReason
from deflect.store.audit import audit_entry
from deflect.store.events import EventStore, SuggestionRecord, add_suggestion, as_utc
from deflect.store.queue_items import (
    ConversationTurn,
    ItemDetail,
    LabelRequest,
    LabelView,
    QueueEntry,
    QueueFilter,
    QueuePage,
    Reviewer,
    entry,
    label_view,
    priority,
)
from deflect.store.tables import (
    Base,
    ReviewItem,
    ReviewLabel,
    StoredFeedback,
    StoredSuggestion,
    newest_labels,
)

CLAIM_EXPIRES = timedelta(minutes=30)  # a claim nobody acted on for this long is free to take
CUSTOMER = "customer"  # the reviewer name of the labels customers give by choosing an option


class ReviewError(ValueError):
    """A review request that cannot be carried out as asked (unknown intent, missing label, …)."""


class ItemNotFound(LookupError):
    pass


class ClaimConflict(RuntimeError):
    pass


class ReviewStore:
    def __init__(self, events: EventStore):
        self.events = events

    # --- the queue ---------------------------------------------------------------------------------------------

    def note_feedback(self, suggestion_id: str, feedback: str) -> None:
        """Negative feedback puts its suggestion in the queue (or raises its priority there)."""
        if feedback not in UNHELPFUL:
            return
        with self.events.session() as session:
            suggestion = session.get(StoredSuggestion, suggestion_id)
            if suggestion is None:
                return
            item = session.scalar(select(ReviewItem).where(ReviewItem.suggestion_id == suggestion_id))
            negative = session.scalar(
                select(func.count())
                .select_from(StoredFeedback)
                .where(StoredFeedback.suggestion_id == suggestion_id, StoredFeedback.feedback.in_(UNHELPFUL))
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

    def record_choice(self, record: SuggestionRecord, with_rows: Sequence[Base], caller_key_id: str) -> None:
        """Store the message that chose an option of a clarifying question (`record.chosen_from`) and, in the same
        transaction, the customer's label on that question: its text meant the intent chosen."""
        with self.events.session() as session:
            add_suggestion(session, record, with_rows)
            question = session.get(StoredSuggestion, record.chosen_from) if record.chosen_from else None
            if question is None:  # deleted meanwhile: nothing left to label
                return
            customer = Reviewer(CUSTOMER, caller_key_id)
            session.add(_label_row(question, LabelAction.CUSTOMER_CHOICE, record.intent, customer, record.created_at))

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
            return QueuePage(int(total), [entry(item, s, labels.get(s.id)) for item, s in rows])

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
                    t.reason_code,
                    t.clarification,
                    t.chosen_from,
                )
                for t in turns
            ]
            return ItemDetail(
                entry(item, suggestion, labels[0] if labels else None),
                conversation,
                [label_view(label) for label in labels],
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
                label = _label_row(
                    suggestion, request.action, intent, reviewer, now, article_id=request.article_id, note=request.note
                )
                session.add(label)
                item.status, item.claimed_by, item.claimed_at = "done", reviewer.name, now
                views.append(label_view(label))
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
            return [entry(item, suggestion, None) for item, suggestion in rows]

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

    def _audit(self, session: Session, actor: Reviewer, action: str, target: str, details: dict[str, Any]) -> None:
        session.add(audit_entry(actor, action, target, details))


def _label_row(
    suggestion: StoredSuggestion,
    action: LabelAction,
    intent: str,
    reviewer: Reviewer,
    at: datetime,
    *,
    article_id: str | None = None,
    note: str | None = None,
) -> ReviewLabel:
    """A label on a stored suggestion, with the suggestion's text, locale and prediction copied onto it."""
    return ReviewLabel(
        suggestion_id=suggestion.id,
        conversation_id=suggestion.conversation_id,
        customer_id=suggestion.customer_id,
        created_at=at,
        text=suggestion.text,
        locale=suggestion.locale,
        predicted_intent=suggestion.intent,
        model_version=suggestion.model_version,
        action=action.value,
        intent=intent,
        article_id=article_id,
        note=note,
        reviewer=reviewer.name,
        reviewer_key_id=reviewer.key_id,
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
