"""The audit trail: who (a key's name and id, or the local user at the command line) changed what and when —
review actions, articles and answer templates, keys, model activation, promotion and rollback, shadow mode,
deliveries and deletions on request — with the before and after where a change has them. Entries never hold
message text, and a deletion on request names the deleted conversation or customer only by a hash of its id; they
outlive the event retention (`DEFLECT_AUDIT_RETENTION_DAYS`)."""

from __future__ import annotations

import getpass
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select

from deflect.store.events import Deleted, EventStore
from deflect.store.queue_items import Reviewer
from deflect.store.tables import AuditEntry

LOCAL_KEY_ID = "cli"


def command_line_actor() -> Reviewer:
    """Who runs a `deflect` command that changes something: the local user, with no API key."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid, in some containers
        user = "unknown"
    return Reviewer(f"cli:{user}", LOCAL_KEY_ID)


def hashed(kind: str, identifier: str) -> str:
    """A deleted subject's id as the audit trail keeps it: `kind:sha256:<first 16 hex>`, so an admin can check
    that a given id was deleted without the trail keeping the id itself."""
    return f"{kind}:sha256:{hashlib.sha256(identifier.encode()).hexdigest()[:16]}"


def deletion_change(kind: str, subject: str, deleted: Deleted) -> tuple[str, str, dict[str, Any]]:
    """The audit entry's action, target and details of a deletion on request (`kind` is conversation or customer):
    the subject by a hash of its id, what went by counts."""
    counts = {
        "conversations": len(deleted.conversation_ids),
        "suggestions": deleted.suggestions,
        "feedback": deleted.feedback,
        "review_labels": deleted.labels,
    }
    return f"{kind}.delete", hashed(kind, subject), counts


def audit_entry(actor: Reviewer, action: str, target: str, details: dict[str, Any]) -> AuditEntry:
    """An audit row, to add in the transaction of the change it records."""
    return AuditEntry(
        at=datetime.now(UTC),
        actor=actor.name,
        actor_key_id=actor.key_id,
        action=action,
        target=target[:200],
        details=details,
    )


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None  # a key's name (or cli:<user>)
    actor_key_id: str | None = None
    action: str | None = None  # exact, or a family ending in '.': "article." is every article change
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 200
    offset: int = 0


class AuditLog:
    def __init__(self, events: EventStore):
        self.events = events

    def record(self, actor: Reviewer, action: str, target: str, details: dict[str, Any] | None = None) -> None:
        with self.events.session() as session:
            session.add(audit_entry(actor, action, target, details or {}))

    def entries(self, query: AuditQuery = AuditQuery()) -> list[AuditEntry]:
        """Newest first."""
        statement = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        if query.actor:
            statement = statement.where(AuditEntry.actor == query.actor)
        if query.actor_key_id:
            statement = statement.where(AuditEntry.actor_key_id == query.actor_key_id)
        if query.action and query.action.endswith("."):
            statement = statement.where(AuditEntry.action.startswith(query.action, autoescape=True))
        elif query.action:
            statement = statement.where(AuditEntry.action == query.action)
        if query.target:
            statement = statement.where(AuditEntry.target == query.target)
        if query.since:
            statement = statement.where(AuditEntry.at >= query.since)
        if query.until:
            statement = statement.where(AuditEntry.at < query.until)
        with self.events.session() as session:
            return list(session.scalars(statement.limit(query.limit).offset(query.offset)))

    def purge(self, older_than: datetime) -> int:
        with self.events.session() as session:
            result = session.execute(delete(AuditEntry).where(AuditEntry.at < older_than))
            return int(getattr(result, "rowcount", 0) or 0)
