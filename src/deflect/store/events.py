"""Stored events: every suggestion and every piece of feedback, with the model version, the decision and its reason.
Texts arrive already PII-redacted. SQLAlchemy 2 over a SQLite file by default or PostgreSQL (`DATABASE_URL`); the
schema is made by the Alembic migrations in `store/migrations/` (`migrate`), never by `create_all`."""

from __future__ import annotations

import fcntl
import logging
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from deflect.store.group_commit import GroupCommitter
from deflect.store.tables import (
    DELIVERED,
    DISCARDED,
    Base,
    OutboxDelivery,
    ReviewLabel,
    StoredFeedback,
    StoredSuggestion,
)

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class SuggestionRecord:
    id: str
    conversation_id: str
    customer_id: str | None
    text: str  # PII-redacted
    locale: str
    intent: str
    confidence: float
    out_of_scope: bool
    alternatives: list[tuple[str, float]]
    articles: list[str]
    decision: str
    reason_code: str
    reason: str
    frustration_score: float
    model_version: str
    index_version: str
    channel: str | None = None
    clarification: dict[str, Any] | None = None  # the question and options, for a clarify decision
    chosen_from: str | None = None  # the clarifying question's suggestion id, for an option the customer chose
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Deleted:
    suggestions: int
    feedback: int
    conversation_ids: list[str]
    labels: int = 0  # review labels (queue items and shadow predictions go with their suggestions)


logger = logging.getLogger(__name__)


def _stored_suggestion(record: SuggestionRecord) -> StoredSuggestion:
    columns = asdict(record)
    columns["alternatives"] = [[intent, score] for intent, score in record.alternatives]
    return StoredSuggestion(**columns)


def add_suggestion(session: Session, record: SuggestionRecord, with_rows: Sequence[Base] = ()) -> None:
    add_suggestions(session, [(record, with_rows)])


def add_suggestions(session: Session, suggestions: Sequence[tuple[SuggestionRecord, Sequence[Base]]]) -> None:
    """Suggestions, each with the rows that refer to it (its queue item, its outbox deliveries), in one flush of
    each kind: the suggestions first, since the rows' foreign keys point at them."""
    session.add_all([_stored_suggestion(record) for record, _ in suggestions])
    dependent = [row for _, rows in suggestions for row in rows]
    if dependent:
        session.flush()
        session.add_all(dependent)


def as_utc(moment: datetime) -> datetime:
    """A stored timestamp in UTC: SQLite hands timestamps back without their zone; they were written in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def database_url(url: str) -> str:
    """PostgreSQL URLs without a driver use psycopg 3 (the one installed)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def migrate(url: str) -> None:
    """Bring the database at `url` to the newest schema (Alembic `upgrade head`). Processes that start together
    (`deflect serve --workers N` on a new database) migrate one after another: on SQLite under a lock on a file
    beside the database, on PostgreSQL under an advisory lock (migrations/env.py); the later ones find it done."""
    sqlite_file = _private_sqlite_file(url)
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url(url).replace("%", "%%"))
    with _one_migration_at_a_time(sqlite_file):
        command.upgrade(config, "head")


@contextmanager
def _one_migration_at_a_time(sqlite_file: Path | None) -> Iterator[None]:
    if sqlite_file is None:
        yield
        return
    lock = os.open(sqlite_file.with_name(sqlite_file.name + ".migration-lock"), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock)  # releases the lock


def _private_sqlite_file(url: str) -> Path | None:
    """A SQLite event database holds customers' messages: make its file readable by the owner only before SQLite
    creates it with the umask's mode (its WAL and shared-memory files take the database file's mode). Returns the
    file (None for another database, or SQLite in memory)."""
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = Path(parsed.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDONLY, 0o600))
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("the event database %s is readable by other users; chmod 600 it", path)
    return path


def _engine(url: str) -> Engine:
    url = database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    _private_sqlite_file(url)
    # hide_parameters: a failed statement's error (and so the log) must not carry customer text or ids
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _sqlite_settings(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        # WAL with synchronous=NORMAL survives a killed process (not a power cut) and lets readers run beside writes
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def _delete(session: Session, statement: Any) -> int:
    """Run a DELETE and return how many rows it removed."""
    return int(getattr(session.execute(statement), "rowcount", 0))


class EventStore:
    """Writes commit before returning: an event the API acknowledged is on disk. Suggestions stored by concurrent
    threads share a transaction (`store/group_commit.py`, at most `commit_batch` of them; 1: one each)."""

    def __init__(self, url: str, commit_batch: int = 64, on_commit: Callable[[int], None] | None = None):
        self.url = database_url(url)
        self.engine = _engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.suggestion_writes: GroupCommitter[tuple[SuggestionRecord, Sequence[Base]]] = GroupCommitter(
            self._add_suggestions, commit_batch, on_commit
        )

    @classmethod
    def open(cls, url: str, commit_batch: int = 64, on_commit: Callable[[int], None] | None = None) -> EventStore:
        """Connect (which makes a SQLite file's folder), then migrate."""
        store = cls(url, commit_batch, on_commit)
        migrate(url)
        return store

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def record_suggestion(self, record: SuggestionRecord, with_rows: Sequence[Base] = ()) -> None:
        """Store a suggestion, and rows that refer to it (its review queue item, its outbox deliveries) in the same
        transaction, which may hold other threads' suggestions too; returns once it has committed."""
        self.suggestion_writes.write((record, with_rows))

    def _add_suggestions(self, suggestions: list[tuple[SuggestionRecord, Sequence[Base]]]) -> None:
        with self.session() as session:
            add_suggestions(session, suggestions)

    def record_feedback(self, suggestion_id: str, feedback: str, article_id: str | None = None) -> None:
        with self.session() as session:
            suggestion = session.get(StoredSuggestion, suggestion_id)
            if suggestion is None:
                raise LookupError(f"no stored suggestion '{suggestion_id}'")
            session.add(
                StoredFeedback(
                    suggestion_id=suggestion_id,
                    conversation_id=suggestion.conversation_id,
                    customer_id=suggestion.customer_id,
                    created_at=datetime.now(UTC),
                    feedback=feedback,
                    article_id=article_id,
                )
            )

    def suggestions(self, conversation_id: str | None = None) -> list[StoredSuggestion]:
        query = select(StoredSuggestion).order_by(StoredSuggestion.created_at)
        if conversation_id is not None:
            query = query.where(StoredSuggestion.conversation_id == conversation_id)
        with self.session() as session:
            return list(session.scalars(query))

    def feedback(self, conversation_id: str | None = None) -> list[StoredFeedback]:
        query = select(StoredFeedback).order_by(StoredFeedback.id)
        if conversation_id is not None:
            query = query.where(StoredFeedback.conversation_id == conversation_id)
        with self.session() as session:
            return list(session.scalars(query))

    def delete_conversation(self, conversation_id: str) -> Deleted:
        """Everything stored for one conversation (a data subject's request), review labels included."""
        with self.session() as session:
            feedback = _delete(session, delete(StoredFeedback).where(StoredFeedback.conversation_id == conversation_id))
            suggestions = _delete(
                session, delete(StoredSuggestion).where(StoredSuggestion.conversation_id == conversation_id)
            )
            labels = _delete(session, delete(ReviewLabel).where(ReviewLabel.conversation_id == conversation_id))
            session.execute(delete(OutboxDelivery).where(OutboxDelivery.conversation_id == conversation_id))
            return Deleted(suggestions, feedback, [conversation_id] if suggestions or labels else [], labels)

    def delete_customer(self, customer_id: str) -> Deleted:
        """Everything stored for one customer id, in every conversation; returns those conversations' ids so the
        caller can drop their live state too."""
        with self.session() as session:
            conversations = sorted(
                set(
                    session.scalars(
                        select(StoredSuggestion.conversation_id).where(StoredSuggestion.customer_id == customer_id)
                    )
                )
            )
            feedback = _delete(session, delete(StoredFeedback).where(StoredFeedback.customer_id == customer_id))
            suggestions = _delete(session, delete(StoredSuggestion).where(StoredSuggestion.customer_id == customer_id))
            labels = _delete(session, delete(ReviewLabel).where(ReviewLabel.customer_id == customer_id))
            session.execute(delete(OutboxDelivery).where(OutboxDelivery.customer_id == customer_id))
            return Deleted(suggestions, feedback, conversations, labels)

    def purge(self, older_than: datetime) -> Deleted:
        """Drop events created before `older_than` (the retention setting); a suggestion goes with its feedback, its
        queue item and shadow predictions (the database cascades), and finished outbox deliveries go too. Review
        labels stay: they are training data; so do dead-lettered deliveries, until a person retries or discards them."""
        with self.session() as session:
            old = select(StoredSuggestion.id).where(StoredSuggestion.created_at < older_than)
            feedback = _delete(
                session,
                delete(StoredFeedback).where(
                    (StoredFeedback.created_at < older_than) | StoredFeedback.suggestion_id.in_(old)
                ),
            )
            suggestions = _delete(session, delete(StoredSuggestion).where(StoredSuggestion.created_at < older_than))
            finished = OutboxDelivery.status.in_((DELIVERED, DISCARDED)) & (OutboxDelivery.finished_at < older_than)
            session.execute(delete(OutboxDelivery).where(finished))
            return Deleted(suggestions, feedback, [])

    def close(self) -> None:
        self.engine.dispose()
