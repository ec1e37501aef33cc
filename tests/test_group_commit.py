"""Group commit on SQLite and PostgreSQL: suggestions stored by concurrent requests share a transaction, each
request returns only once its own rows are committed, and one bad write fails only the request that made it."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from test_events import record

from deflect.store.events import EventStore
from deflect.store.outbox import new_delivery
from deflect.store.queue_items import new_queue_item
from deflect.store.tables import OutboxDelivery, ReviewItem


def _until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


class HeldFirstCommit:
    """Holds the first batch's leader after it commits, until the test lets it go: the writes that arrive meanwhile
    queue up and go together in the next batch."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.release = threading.Event()

    def __call__(self, size: int) -> None:
        self.sizes.append(size)
        if len(self.sizes) == 1:
            self.release.wait(timeout=30)


def _store_concurrently(store: EventStore, writes: list[tuple], held: HeldFirstCommit) -> dict[str, BaseException]:
    failures: dict[str, BaseException] = {}

    def store_one(suggestion_record, rows) -> None:
        try:
            store.record_suggestion(suggestion_record, rows)
        except Exception as error:
            failures[suggestion_record.id] = error

    first, *rest = [threading.Thread(target=store_one, args=write) for write in writes]
    first.start()
    _until(lambda: len(held.sizes) == 1)  # the first request committed alone and is held
    for thread in rest:
        thread.start()
    _until(lambda: store.suggestion_writes.waiting == len(rest))
    held.release.set()
    for thread in [first, *rest]:
        thread.join(timeout=30)
    return failures


def test_concurrent_suggestions_are_committed_together_and_each_is_stored(database_url: str) -> None:
    held = HeldFirstCommit()
    store = EventStore.open(database_url, commit_batch=64, on_commit=held)
    writes = []
    for number in range(9):
        suggestion = record(f"s-{number}", f"c-{number}", decision="handoff", reason_code="out_of_scope")
        writes.append((suggestion, [new_queue_item(suggestion)]))

    assert _store_concurrently(store, writes, held) == {}

    assert held.sizes == [1, 8]  # nine requests, two transactions
    assert sorted(s.id for s in store.suggestions()) == [f"s-{n}" for n in range(9)]
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(ReviewItem)) == 9
    store.close()


def test_a_batch_is_at_most_commit_batch_writes(database_url: str) -> None:
    held = HeldFirstCommit()
    store = EventStore.open(database_url, commit_batch=3, on_commit=held)
    writes = [(record(f"s-{n}", f"c-{n}"), []) for n in range(8)]

    assert _store_concurrently(store, writes, held) == {}

    assert held.sizes == [1, 3, 3, 1]
    assert len(store.suggestions()) == 8
    store.close()


def test_a_duplicate_delivery_fails_only_the_request_that_sent_it(database_url: str) -> None:
    """The Chatwoot webhook relies on this: an event delivered twice at once stores its reply once, and the second
    request learns of it by the IntegrityError, while the other customers' suggestions in its batch are kept."""
    held = HeldFirstCommit()
    store = EventStore.open(database_url, on_commit=held)

    def with_reply(number: int, delivery_id: str) -> tuple:
        suggestion = record(f"s-{number}", f"c-{number}", decision="handoff", reason_code="out_of_scope")
        reply = new_delivery(delivery_id, "reply", "chatwoot", suggestion.id, suggestion.conversation_id, None, {})
        return suggestion, [new_queue_item(suggestion), reply]

    writes = [with_reply(0, "d-cw-1-100"), *[with_reply(n, f"d-cw-1-{100 + n}") for n in range(1, 5)]]
    writes.append(with_reply(5, "d-cw-1-100"))  # the first event again

    failures = _store_concurrently(store, writes, held)

    assert list(failures) == ["s-5"] and isinstance(failures["s-5"], IntegrityError)
    assert sorted(s.id for s in store.suggestions()) == [f"s-{n}" for n in range(5)]
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxDelivery)) == 5
        assert session.scalar(select(func.count()).select_from(ReviewItem)) == 5
    store.close()


@pytest.mark.parametrize("commit_batch", [1, 64])
def test_a_request_alone_commits_at_once(database_url: str, commit_batch: int) -> None:
    sizes: list[int] = []
    store = EventStore.open(database_url, commit_batch=commit_batch, on_commit=sizes.append)
    for number in range(3):
        store.record_suggestion(record(f"s-{number}", "c-1"))
        assert [s.id for s in store.suggestions()][-1] == f"s-{number}"
    assert sizes == [1, 1, 1]
    store.close()
