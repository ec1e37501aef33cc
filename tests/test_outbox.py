"""The transactional outbox on SQLite and PostgreSQL: a handoff's delivery is stored with its suggestion, leased to
one worker at a time, finished or retried by the delivery worker — which a failing sender never stops — and deleted
with its conversation on request."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from deflect.api.auth import Role
from deflect.conversation.metrics import ServiceMetrics
from deflect.core.settings import Settings
from deflect.delivery.webhook import SendOutcome
from deflect.delivery.worker import DeliveryWorker, RetryPolicy
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex
from deflect.store.events import EventStore
from deflect.store.outbox import ClaimedDelivery, DeliveryStateError, Outbox, new_delivery
from tests.api_clients import api_clients


def _queue(store: EventStore, delivery_id: str, conversation_id: str = "c-1") -> None:
    with store.session() as session:
        session.add(new_delivery(delivery_id, "handoff", "webhook", "s-1", conversation_id, None, {"n": 1}))


def test_a_handoff_is_in_the_outbox_once_its_suggestion_is_acknowledged(
    app_settings: Settings, demo_model: IntentModel, demo_index: ArticleIndex
) -> None:
    # the receiver is never reached: the worker's first attempt waits for a long backoff
    settings = app_settings.model_copy(
        update={"handoff_webhook_url": "http://127.0.0.1:1/hook", "handoff_webhook_secret": "s"}
    )
    with api_clients(settings, demo_model, demo_index, server=Role.SERVER, admin=Role.ADMIN) as clients:
        server: TestClient = clients["server"]
        answer = server.post("/v1/suggest", json={"text": "상담원 연결해 주세요", "conversation_id": "c-out"}).json()
        again = server.post("/v1/suggest", json={"text": "사람이요", "conversation_id": "c-out"}).json()
        listed = clients["admin"].get("/admin/deliveries").json()
        store = EventStore(settings.database_url)
        rows = Outbox(store).list()
        store.close()

    assert answer["decision"] == again["decision"] == "handoff"
    assert [row.conversation_id for row in rows] == ["c-out"]  # one delivery per conversation's first handoff
    assert listed[0]["id"] == rows[0].id and listed[0]["topic"] == "handoff"


def test_a_delivery_is_leased_to_one_worker_until_its_lease_expires(database_url: str) -> None:
    store = EventStore.open(database_url)
    outbox = Outbox(store)
    _queue(store, "d-lease")

    first = outbox.claim("worker-a", lease_seconds=0.3)
    second = outbox.claim("worker-b", lease_seconds=0.3)
    time.sleep(0.4)  # worker-a died mid-send
    taken_over = outbox.claim("worker-b", lease_seconds=30)
    outbox.delivered("d-lease", "worker-a")  # too late: worker-b holds it now
    still_leased = outbox.list()[0]
    outbox.delivered("d-lease", "worker-b")
    store.close()

    assert [d.id for d in first] == ["d-lease"] and second == []
    assert [(d.id, d.attempts) for d in taken_over] == [("d-lease", 2)]
    assert still_leased.status == "pending" and outbox.list()[0].status == "delivered"


class FlakySender:
    """Raises on its first call, then delivers."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def send(self, delivery: ClaimedDelivery) -> SendOutcome:
        self.calls.append(delivery.id)
        if len(self.calls) == 1:
            raise RuntimeError("a bug in the sender")
        return SendOutcome(True)

    def close(self) -> None:
        pass


def test_the_worker_goes_on_after_a_sender_fails_unexpectedly(database_url: str) -> None:
    store = EventStore.open(database_url)
    _queue(store, "d-flaky")
    metrics = ServiceMetrics()
    sender = FlakySender()
    worker = DeliveryWorker(
        Outbox(store), {"webhook": sender}, metrics, RetryPolicy(3, 0.05, 0.05), poll_seconds=0.05
    ).start()
    deadline = time.monotonic() + 10
    while Outbox(store).list()[0].status != "delivered" and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.stop()
    row = Outbox(store).list()[0]
    store.close()

    assert row.status == "delivered" and row.attempts == 2 and sender.calls == ["d-flaky", "d-flaky"]
    rendered = metrics.render().decode()
    assert 'deflect_outbox_deliveries_total{outcome="unexpected_error"} 1.0' in rendered
    assert "deflect_outbox_pending 0.0" in rendered


def test_admins_retry_dead_letters_and_discard_but_never_touch_delivered_ones(database_url: str) -> None:
    store = EventStore.open(database_url)
    outbox = Outbox(store)
    for delivery_id in ("d-dead", "d-done"):
        _queue(store, delivery_id)
    for claimed in outbox.claim("w", 30):
        if claimed.id == "d-dead":
            outbox.dead_letter(claimed.id, "w", "HTTP 400")
        else:
            outbox.delivered(claimed.id, "w")

    figures = outbox.figures()
    again = outbox.retry("d-dead")
    discarded = outbox.discard("d-dead")
    with pytest.raises(DeliveryStateError, match="is delivered"):
        outbox.retry("d-done")
    with pytest.raises(LookupError):
        outbox.discard("d-missing")
    store.close()

    assert figures.counts == {"pending": 0, "delivered": 1, "dead": 1, "discarded": 0}
    assert (again.status, again.attempts) == ("pending", 0) and discarded.status == "discarded"


def test_a_conversation_deleted_on_request_takes_its_deliveries(database_url: str) -> None:
    store = EventStore.open(database_url)
    _queue(store, "d-mine", "c-delete-me")
    _queue(store, "d-other", "c-keep")

    store.delete_conversation("c-delete-me")
    left = [view.id for view in Outbox(store).list()]
    store.close()

    assert left == ["d-other"]
