"""Group commit: the suggestions of concurrent requests written in one transaction. Each caller returns only after
the transaction holding its rows has committed, so an acknowledged suggestion is as durable as with one commit per
request; what is saved is the per-transaction cost (BEGIN/COMMIT, a connection checkout, the flush, and on
PostgreSQL the WAL flush each commit waits for).

No writer thread: the first caller to find nobody writing becomes the leader, takes every write queued so far (its
own included) and commits them; callers that arrive meanwhile queue up, and when the leader is done the oldest of
them leads the next batch. A request alone commits at once, as before: nothing waits for company."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Write = TypeVar("Write")


@dataclass
class _Queued(Generic[Write]):
    write: Write
    done: threading.Event = field(default_factory=threading.Event)
    leads: bool = False  # woken to lead the next batch, not because its write was committed
    error: BaseException | None = None


class GroupCommitter(Generic[Write]):
    """`write` hands a write to `commit`, a function that stores a list of writes in one transaction, together with
    the writes of other threads queued at the same moment (at most `max_batch`). A batch that fails is retried one
    write per transaction, so each caller gets its own outcome: a duplicate delivery id fails only the request that
    sent it."""

    def __init__(
        self,
        commit: Callable[[list[Write]], None],
        max_batch: int = 64,
        on_commit: Callable[[int], None] | None = None,
    ):
        self._commit_together = commit
        self.max_batch = max_batch
        self.on_commit = on_commit  # told each committed batch's size (a metric)
        self._lock = threading.Lock()
        self._queue: list[_Queued[Write]] = []
        self._leading = False

    @property
    def waiting(self) -> int:
        """Writes queued behind the batch being committed."""
        with self._lock:
            return len(self._queue)

    def write(self, write: Write) -> None:
        mine = _Queued(write)
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

    def _commit(self, batch: list[_Queued[Write]]) -> None:
        try:
            self._in_one_transaction(batch)
        except Exception as error:
            if len(batch) == 1:
                batch[0].error = error
            else:
                for queued in batch:  # find which write failed: each alone
                    try:
                        self._in_one_transaction([queued])
                    except Exception as alone:
                        queued.error = alone
        for queued in batch:
            queued.done.set()

    def _in_one_transaction(self, batch: list[_Queued[Write]]) -> None:
        self._commit_together([queued.write for queued in batch])
        if self.on_commit is not None:
            self.on_commit(len(batch))


def _raise_if_failed(queued: _Queued[Write]) -> None:
    if queued.error is not None:
        raise queued.error
