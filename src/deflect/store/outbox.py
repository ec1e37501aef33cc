"""The transactional outbox: outbound events written beside the suggestion that caused them (one transaction), then
claimed, sent and finished by a delivery worker (deflect.delivery). A claim is a lease on one row, taken by a
conditional UPDATE, so several workers or replicas never send the same delivery at once; a worker that dies
mid-send leaves a lease that expires, and the delivery is sent again under the same id (at least once, never lost).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update

from deflect.store.events import EventStore, as_utc
from deflect.store.tables import DEAD, DELIVERED, DISCARDED, PENDING, OutboxDelivery

STATUSES = (PENDING, DELIVERED, DEAD, DISCARDED)


class DeliveryStateError(ValueError):
    """A delivery asked to do what its status does not allow (retry a delivered one, say)."""


def new_delivery(
    delivery_id: str,
    topic: str,
    target: str,
    suggestion_id: str,
    conversation_id: str,
    customer_id: str | None,
    payload: dict[str, Any],
) -> OutboxDelivery:
    """A pending delivery row, to be added in the transaction that stores its suggestion."""
    now = datetime.now(UTC)
    return OutboxDelivery(
        id=delivery_id,
        topic=topic,
        target=target,
        suggestion_id=suggestion_id,
        conversation_id=conversation_id,
        customer_id=customer_id,
        created_at=now,
        payload=payload,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
    )


@dataclass(frozen=True)
class ClaimedDelivery:
    id: str
    topic: str
    target: str
    payload: dict[str, Any]
    attempts: int  # this attempt included


@dataclass(frozen=True)
class DeliveryView:
    id: str
    topic: str
    target: str
    conversation_id: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_error: str | None
    finished_at: datetime | None


@dataclass(frozen=True)
class OutboxFigures:
    counts: dict[str, int]  # by status
    oldest_pending_seconds: float  # 0 when nothing waits


def _view(row: OutboxDelivery) -> DeliveryView:
    return DeliveryView(
        row.id,
        row.topic,
        row.target,
        row.conversation_id,
        row.status,
        row.attempts,
        as_utc(row.created_at),
        as_utc(row.next_attempt_at),
        row.last_error,
        as_utc(row.finished_at) if row.finished_at else None,
    )


class Outbox:
    def __init__(self, events: EventStore):
        self.events = events

    def claim(self, owner: str, lease_seconds: float, limit: int = 16) -> list[ClaimedDelivery]:
        """Due pending deliveries whose lease is free, each leased to `owner` and its attempt counted."""
        now = datetime.now(UTC)
        free = or_(OutboxDelivery.lease_until.is_(None), OutboxDelivery.lease_until < now)
        due = (OutboxDelivery.status == PENDING) & (OutboxDelivery.next_attempt_at <= now) & free
        with self.events.session() as session:
            ids = list(
                session.scalars(
                    select(OutboxDelivery.id).where(due).order_by(OutboxDelivery.next_attempt_at).limit(limit)
                )
            )
        claimed = []
        for delivery_id in ids:
            with self.events.session() as session:
                taken = session.execute(
                    update(OutboxDelivery)
                    .where((OutboxDelivery.id == delivery_id) & due)
                    .values(
                        lease_owner=owner,
                        lease_until=now + timedelta(seconds=lease_seconds),
                        attempts=OutboxDelivery.attempts + 1,
                    )
                )
                if getattr(taken, "rowcount", 0) != 1:
                    continue  # another worker took it first
                row = session.get(OutboxDelivery, delivery_id)
                assert row is not None
                claimed.append(ClaimedDelivery(row.id, row.topic, row.target, dict(row.payload), row.attempts))
        return claimed

    def delivered(self, delivery_id: str, owner: str) -> None:
        self._finish(delivery_id, owner, status=DELIVERED, finished_at=datetime.now(UTC))

    def dead_letter(self, delivery_id: str, owner: str, error: str) -> None:
        self._finish(delivery_id, owner, status=DEAD, last_error=error, finished_at=datetime.now(UTC))

    def retry_later(self, delivery_id: str, owner: str, at: datetime, error: str) -> None:
        self._finish(delivery_id, owner, status=PENDING, next_attempt_at=at, last_error=error)

    def _finish(self, delivery_id: str, owner: str, **values: Any) -> None:
        """Release `owner`'s lease with new values; a lease that expired and was taken over is left to its new
        owner (this attempt then counts as a duplicate the receiver drops by delivery id)."""
        with self.events.session() as session:
            session.execute(
                update(OutboxDelivery)
                .where((OutboxDelivery.id == delivery_id) & (OutboxDelivery.lease_owner == owner))
                .values(lease_owner=None, lease_until=None, **values)
            )

    def has(self, delivery_id: str) -> bool:
        with self.events.session() as session:
            return session.get(OutboxDelivery, delivery_id) is not None

    def list(self, status: str | None = None, limit: int = 100) -> list[DeliveryView]:
        query = select(OutboxDelivery).order_by(OutboxDelivery.created_at.desc()).limit(limit)
        if status is not None:
            query = query.where(OutboxDelivery.status == status)
        with self.events.session() as session:
            return [_view(row) for row in session.scalars(query)]

    def retry(self, delivery_id: str) -> DeliveryView:
        """Send a dead-lettered, discarded or waiting delivery again now, with a fresh count of attempts."""
        return self._set(delivery_id, (DEAD, DISCARDED, PENDING), status=PENDING, attempts=0, finished_at=None)

    def discard(self, delivery_id: str) -> DeliveryView:
        """Never send it (a pending or dead-lettered delivery); it stays listed."""
        return self._set(delivery_id, (DEAD, PENDING), status=DISCARDED, finished_at=datetime.now(UTC))

    def _set(self, delivery_id: str, allowed: tuple[str, ...], **values: Any) -> DeliveryView:
        with self.events.session() as session:
            row = session.get(OutboxDelivery, delivery_id)
            if row is None:
                raise LookupError(f"no delivery '{delivery_id}'")
            if row.status not in allowed:
                raise DeliveryStateError(f"delivery '{delivery_id}' is {row.status}")
            for name, value in {**values, "next_attempt_at": datetime.now(UTC)}.items():
                setattr(row, name, value)
            row.lease_owner = row.lease_until = None
            session.flush()
            return _view(row)

    def figures(self) -> OutboxFigures:
        with self.events.session() as session:
            counts = dict(
                session.execute(select(OutboxDelivery.status, func.count()).group_by(OutboxDelivery.status)).all()
            )
            oldest = session.scalar(select(func.min(OutboxDelivery.created_at)).where(OutboxDelivery.status == PENDING))
        age = (datetime.now(UTC) - as_utc(oldest)).total_seconds() if oldest else 0.0
        return OutboxFigures({status: int(counts.get(status, 0)) for status in STATUSES}, max(age, 0.0))
