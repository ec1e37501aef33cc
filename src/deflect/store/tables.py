"""The event database's tables: suggestions and feedback as they happened, and beside them the review loop's — the
queue of suggestions a person should look at, the labels reviewers set (append-only; the newest label per suggestion
is the one that counts), the audit trail of everything reviewers and admins did, and a shadow model's predictions on
live traffic. The schema itself is made by the Alembic migrations in `migrations/`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, Select, String, Text, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class StoredSuggestion(Base):
    __tablename__ = "suggestions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    text: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8))
    intent: Mapped[str] = mapped_column(String(128), index=True)
    confidence: Mapped[float]
    out_of_scope: Mapped[bool]
    alternatives: Mapped[list[Any]] = mapped_column(JSON)
    articles: Mapped[list[Any]] = mapped_column(JSON)
    decision: Mapped[str] = mapped_column(String(32), index=True)
    reason_code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    frustration_score: Mapped[float]
    model_version: Mapped[str] = mapped_column(String(64))
    index_version: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(32))
    # a clarifying question: {"step", "question", "options": [{"kind", "label", "intent", "article_id"}]}
    clarification: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    chosen_from: Mapped[str | None] = mapped_column(String(64))  # the question whose option this message chose


class StoredFeedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    suggestion_id: Mapped[str] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    feedback: Mapped[str] = mapped_column(String(16))
    article_id: Mapped[str | None] = mapped_column(String(128))


class ReviewItem(Base):
    """One suggestion in the queue. Removed with its suggestion (retention purge, deletion on request)."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    suggestion_id: Mapped[str] = mapped_column(
        ForeignKey("suggestions.id", ondelete="CASCADE"), unique=True, index=True
    )
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    reasons: Mapped[list[str]] = mapped_column(JSON)  # handoff / low_confidence / out_of_scope / negative_feedback
    priority: Mapped[float] = mapped_column(Float, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open / claimed / done
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReviewLabel(Base):
    """A reviewer's label on a suggestion. Keeps its own copy of the (redacted) text so reviewed training data
    outlives the retention purge of raw events; deleted with the conversation or customer on request."""

    __tablename__ = "review_labels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    suggestion_id: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    text: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8))
    predicted_intent: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(64))
    # confirm / correct / out_of_scope / new_intent / attach_article / customer_choice
    action: Mapped[str] = mapped_column(String(32))
    intent: Mapped[str] = mapped_column(String(128), index=True)  # the label: an intent, a new one, or out_of_scope
    article_id: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(128))  # the reviewer's key name
    reviewer_key_id: Mapped[str] = mapped_column(String(32))


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(128), index=True)
    actor_key_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class ShadowPrediction(Base):
    """What a candidate model in shadow mode predicted for a live suggestion; the customer never saw it."""

    __tablename__ = "shadow_predictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    suggestion_id: Mapped[str] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    model_version: Mapped[str] = mapped_column(String(64), index=True)
    intent: Mapped[str] = mapped_column(String(128))
    confidence: Mapped[float]
    out_of_scope: Mapped[bool]
    decision: Mapped[str] = mapped_column(String(32))
    articles: Mapped[list[Any]] = mapped_column(JSON)


# an outbox delivery's status
PENDING, DELIVERED, DEAD, DISCARDED = "pending", "delivered", "dead", "discarded"


class OutboxDelivery(Base):
    """An outbound event (a handoff package for the helpdesk webhook) written in the same transaction as the
    suggestion that caused it, until a delivery worker has sent it. The id is the delivery id the receiver sees on
    every attempt, so it can drop duplicates. No foreign key: a pending delivery outlives its suggestion's purge."""

    __tablename__ = "outbox"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    topic: Mapped[str] = mapped_column(String(32))  # handoff
    target: Mapped[str] = mapped_column(String(32), index=True)  # webhook
    suggestion_id: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending / delivered / dead / discarded
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64))  # the worker sending it now
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def newest_labels(*leaving_out_actions: str) -> Select[ReviewLabel]:
    """The label that counts for each suggestion: labels are append-only, so the newest one (latest `created_at`,
    then highest id) wins, among those whose action is not left out. Ordered oldest first."""
    candidates = select(
        ReviewLabel.id,
        func.row_number()
        .over(partition_by=ReviewLabel.suggestion_id, order_by=(ReviewLabel.created_at.desc(), ReviewLabel.id.desc()))
        .label("rank"),
    )
    if leaving_out_actions:
        candidates = candidates.where(ReviewLabel.action.not_in(leaving_out_actions))
    ranked = candidates.subquery()
    return (
        select(ReviewLabel)
        .join(ranked, ReviewLabel.id == ranked.c.id)
        .where(ranked.c.rank == 1)
        .order_by(ReviewLabel.created_at, ReviewLabel.id)
    )
