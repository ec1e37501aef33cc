"""Handoff packages reach a helpdesk webhook — a real local HTTP receiver — through the outbox: written with the
suggestion, signed, retried after failures (as the receiver's Retry-After says), dead-lettered after the last
attempt and sent again from the admin API, and counted in the metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from live_server import address, http_receiver, wait_for

from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.delivery.webhook import verify_signature
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex

SECRET = "shared-with-the-helpdesk"
# status, headers: what the receiver answers to its n-th attempt (then 200)
Answer = tuple[int, dict[str, str]]


class Receiver:
    """Answers the first deliveries as `answers` says (503 by default), then 200; keeps what it accepted and when
    each attempt came."""

    def __init__(self, failures: int = 0, answers: list[Answer] | None = None):
        self.answers = answers if answers is not None else [(503, {})] * failures
        self.attempts: list[str] = []
        self.attempted_at: list[float] = []
        self.accepted: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.attempts.append(self.headers["x-deflect-delivery"])
                receiver.attempted_at.append(time.monotonic())
                signed = verify_signature(
                    SECRET, self.headers["x-deflect-timestamp"], body, self.headers["x-deflect-signature"]
                )
                if not signed:
                    self.send_response(401)
                elif len(receiver.attempts) <= len(receiver.answers):
                    status, headers = receiver.answers[len(receiver.attempts) - 1]
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                else:
                    receiver.accepted.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http_receiver(Handler)

    @property
    def url(self) -> str:
        return f"{address(self.server)}/hooks/deflect"


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(failures=2)
    yield receiver
    receiver.server.shutdown()


def _client(tmp_path: Path, url: str, model: IntentModel, index: ArticleIndex, **settings: object) -> TestClient:
    configured = Settings(
        api_keys_file=tmp_path / "keys.json",
        answers_overrides_file=tmp_path / "answers.json",
        database_url=str(settings.pop("database_url", f"sqlite:///{tmp_path / 'events.db'}")),
        handoff_webhook_url=url,
        handoff_webhook_secret=SECRET,
        webhook_backoff_seconds=0.05,
        webhook_max_attempts=4,
        **settings,
    )
    keys = KeyStore(configured.api_keys_file)
    key, _ = keys.create("shop backend", Role.SERVER)  # names its conversations
    admin, _ = keys.create("ops", Role.ADMIN)
    app = create_app(configured, Suggester(model, index, configured))
    client = TestClient(app, headers={"Authorization": f"Bearer {key}"})
    client.admin_headers = {"Authorization": f"Bearer {admin}"}  # type: ignore[attr-defined]
    return client


def test_a_handoff_is_delivered_once_signed_after_retries(
    tmp_path: Path, receiver: Receiver, demo_model: IntentModel, demo_index: ArticleIndex
) -> None:
    with _client(tmp_path, receiver.url, demo_model, demo_index) as client:
        first = client.post("/v1/suggest", json={"text": "환불 언제 들어와요?", "conversation_id": "c-hook"}).json()
        handoff = client.post("/v1/suggest", json={"text": "상담원 연결해 주세요", "conversation_id": "c-hook"}).json()
        again = client.post("/v1/suggest", json={"text": "사람이랑 얘기할래요", "conversation_id": "c-hook"}).json()
        wait_for(lambda: receiver.accepted)
        metrics = client.get("/metrics").text

    assert first["decision"] != "handoff" and handoff["decision"] == again["decision"] == "handoff"
    assert len(receiver.accepted) == 1 and len(receiver.attempts) == 3  # two 503s, then delivered
    delivery = receiver.accepted[0]
    assert delivery["event"] == "handoff" and set(receiver.attempts) == {delivery["delivery_id"]}
    package = delivery["package"]
    assert package["conversation_id"] == "c-hook" and package["reason_code"] == "person_requested"
    assert package["route"]["team"] and package["route"]["language"] == "ko"
    assert [turn["text"] for turn in package["transcript"]][0] == "환불 언제 들어와요?"
    assert 'deflect_outbox_deliveries_total{outcome="queued"} 1.0' in metrics
    assert 'deflect_outbox_deliveries_total{outcome="delivered"} 1.0' in metrics
    assert 'deflect_outbox_deliveries_total{outcome="retried"} 2.0' in metrics


def test_a_receiver_that_never_answers_is_dead_lettered_and_sent_again_from_the_admin_api(
    tmp_path: Path, demo_model: IntentModel, demo_index: ArticleIndex
) -> None:
    with _client(tmp_path, "http://127.0.0.1:1/unreachable", demo_model, demo_index) as client:
        admin = client.admin_headers  # type: ignore[attr-defined]
        client.post("/v1/suggest", json={"text": "talk to a human please"})
        wait_for(lambda: client.get("/admin/deliveries?status=dead", headers=admin).json())
        dead = client.get("/admin/deliveries?status=dead", headers=admin).json()
        metrics = client.get("/metrics").text
        retried = client.post(f"/admin/deliveries/{dead[0]['id']}/retry", headers=admin)
        unknown = client.post("/admin/deliveries/d-unknown/retry", headers=admin)
        by_widget = client.get("/admin/deliveries")  # a server key is not an admin's

    assert len(dead) == 1 and dead[0]["attempts"] == 4 and dead[0]["topic"] == "handoff"
    assert "ConnectError" in dead[0]["last_error"]
    assert 'deflect_outbox_deliveries_total{outcome="dead_lettered"} 1.0' in metrics
    assert 'deflect_outbox_deliveries_total{outcome="retried"} 3.0' in metrics
    assert retried.status_code == 200 and retried.json()["status"] == "pending" and retried.json()["attempts"] == 0
    assert unknown.status_code == 404 and by_widget.status_code == 403


def test_a_receiver_s_retry_after_is_waited_for_and_a_final_answer_dead_letters(
    tmp_path: Path, demo_model: IntentModel, demo_index: ArticleIndex
) -> None:
    slow_down = Receiver(answers=[(429, {"Retry-After": "1"})])
    refusing = Receiver(answers=[(400, {})])
    try:
        with _client(tmp_path / "a", slow_down.url, demo_model, demo_index) as client:
            client.post("/v1/suggest", json={"text": "상담원 연결해 주세요"})
            wait_for(lambda: slow_down.accepted)
        with _client(tmp_path / "b", refusing.url, demo_model, demo_index) as client:
            client.post("/v1/suggest", json={"text": "상담원 연결해 주세요"})
            admin = client.admin_headers  # type: ignore[attr-defined]
            wait_for(lambda: client.get("/admin/deliveries?status=dead", headers=admin).json())
            dead = client.get("/admin/deliveries?status=dead", headers=admin).json()
    finally:
        slow_down.server.shutdown()
        refusing.server.shutdown()

    assert len(slow_down.accepted) == 1 and slow_down.attempted_at[1] - slow_down.attempted_at[0] >= 0.95
    assert len(refusing.attempts) == 1 and dead[0]["last_error"] == "HTTP 400"


def test_an_unusable_webhook_url_stops_the_start_with_a_clear_error(
    tmp_path: Path, demo_model: IntentModel, demo_index: ArticleIndex
) -> None:
    client = _client(tmp_path, "ftp//helpdesk", demo_model, demo_index)

    with pytest.raises(ValueError, match="DEFLECT_HANDOFF_WEBHOOK_URL must be an http"), client:
        pass


def test_the_delivered_package_carries_the_details_given_once_and_contact_details_only_as_given(
    tmp_path: Path, demo_model: IntentModel, demo_index: ArticleIndex
) -> None:
    receiver = Receiver(failures=0)
    try:
        with _client(tmp_path, receiver.url, demo_model, demo_index) as client:
            for text in (
                "배송 언제 와요? 주문번호는 20261103-0012345예요",
                "주문번호 20261103-0012345 다시 적어요, 송장 5520-8841-0376 으로 조회가 안 돼요",
                "010-4821-7730으로 연락 주세요, 상담원 연결해 주세요",
            ):
                client.post("/v1/suggest", json={"text": text, "conversation_id": "c-details"})
            wait_for(lambda: receiver.accepted)
    finally:
        receiver.server.shutdown()

    package = receiver.accepted[0]["package"]
    details = [(d["kind"], d["value"], d["turn"]) for d in package["details"]]
    assert details == [
        ("order_number", "20261103-0012345", 0),
        ("tracking_number", "552088410376", 1),
        ("phone", None, 2),
    ]
    labels = [d["label"] for d in package["details"]]
    assert labels[0] == "주문번호: 20261103-0012345" and labels[2] == "연락처 제공됨"
    assert "4821" not in json.dumps(package, ensure_ascii=False)  # the phone number itself is nowhere
