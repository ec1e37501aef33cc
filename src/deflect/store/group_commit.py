"""Group commit: the suggestions of concurrent requests written in one transaction. Each caller returns only after
the transaction holding its rows has committed, so an acknowledged suggestion is as durable as with one commit per
request; what is saved is the per-transaction cost (BEGIN/COMMIT, a connection checkout, the flush, and on
PostgreSQL the WAL flush each commit waits for).

No writer thread: the first caller to find nobody writing becomes the leader, takes every write queued so far (its
own included) and commits them; callers that arrive meanwhile queue up, and when the leader is done the oldest of
them leads the next batch. A request alone commits at once, as before: nothing waits for company."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from deflect.store.tables import Base, StoredSuggestion


@dataclass
class SuggestionWrite:
    suggestion: StoredSuggestion
    rows: Sequence[Base]  # rows that refer to the suggestion (its queue item, outbox deliveries)
    done: threading.Event = field(default_factory=threading.Event)
    leads: bool = False  # woken to lead the next batch, not because its rows were committed
    error: BaseException | None = None


class GroupCommitter:
    """`write` stores a suggestion and its rows, in a transaction shared with the writes of other threads queued at
    the same moment (at most `max_batch`). A batch that fails is retried one write per transaction, so each caller
    gets its own outcome: a duplicate delivery id fails only the request that sent it."""

    def __init__(
        self,
        begin: Callable[[], Session],
        max_batch: int = 64,
        on_commit: Callable[[int], None] | None = None,
    ):
        self._begin = begin
        self.max_batch = max_batch
        self.on_commit = on_commit  # told each committed batch's size (a metric)
        self._lock = threading.Lock()
        self._queue: list[SuggestionWrite] = []
        self._leading = False

    @property
    def waiting(self) -> int:
        """Writes queued behind the batch being committed."""
        with self._lock:
            return len(self._queue)

    def write(self, suggestion: StoredSuggestion, rows: Sequence[Base] = ()) -> None:
        mine = SuggestionWrite(suggestion, rows)
        with self._lock:
            self._queue.append(mine)
            follows = self._leading
            self._leading = True
        if follows:
            mine.done.wait()
            if not mine.leads:
                _raise_if_failed(mine)
                return
        with self._lock:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
        try:
            self._commit(batch)
        finally:
            with self._lock:
                if self._queue:
                    following = self._queue[0]
                    following.leads = True
                    following.done.set()
                else:
                    self._leading = False
        _raise_if_failed(mine)

    def _commit(self, batch: list[SuggestionWrite]) -> None:
        try:
            self._in_one_transaction(batch)
        except Exception as error:
            if len(batch) == 1:
                batch[0].error = error
            else:
                for write in batch:  # find which write failed: each alone
                    try:
                        self._in_one_transaction([write])
                    except Exception as alone:
                        write.error = alone
        for write in batch:
            write.leads = False
            write.done.set()

    def _in_one_transaction(self, batch: list[SuggestionWrite]) -> None:
        with self._begin() as session, session.begin():
            session.add_all([write.suggestion for write in batch])
            dependent = [row for write in batch for row in write.rows]
            if dependent:
                session.flush()  # the suggestions first: the rows' foreign keys point at them
                session.add_all(dependent)
        if self.on_commit is not None:
            self.on_commit(len(batch))


def _raise_if_failed(write: SuggestionWrite) -> None:
    if write.error is not None:
        raise write.error
