"""The retention job: while the app serves, stored events older than the event retention, and audit entries older
than the (longer) audit retention, are purged every hour."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from deflect.store.audit import AuditLog
from deflect.store.events import Deleted, EventStore

logger = logging.getLogger(__name__)


def purge_expired(events: EventStore, retention_days: int, audit_retention_days: int | None = None) -> Deleted:
    """Events past `retention_days`; audit entries only past `audit_retention_days` (never when None)."""
    now = datetime.now(UTC)
    if audit_retention_days is not None:
        AuditLog(events).purge(now - timedelta(days=audit_retention_days))
    return events.purge(now - timedelta(days=retention_days))


class RetentionJob:
    def __init__(
        self,
        events: EventStore | None,
        retention_days: int,
        audit_retention_days: int | None = None,
        every_seconds: float = 3600.0,
    ):
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if events is not None:
            self._thread = threading.Thread(
                target=self._run,
                args=(events, retention_days, audit_retention_days, every_seconds),
                name="retention",
                daemon=True,
            )
            self._thread.start()

    def _run(
        self, events: EventStore, retention_days: int, audit_retention_days: int | None, every_seconds: float
    ) -> None:
        while not self._stop.is_set():
            try:
                deleted = purge_expired(events, retention_days, audit_retention_days)
                if deleted.suggestions or deleted.feedback:
                    logger.info("retention: purged %d suggestions, %d feedback", deleted.suggestions, deleted.feedback)
            except Exception:  # a database hiccup must not end the job; the next round tries again
                logger.exception("retention purge failed")
            self._stop.wait(every_seconds)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop, after the purge under way (if any) has finished: a purge left running past shutdown would hold
        locks on tables a migration or a dropped schema then waits for."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
