"""Handoff packages reach a helpdesk webhook — a real local HTTP receiver — signed, retried after failures, and
counted in the metrics."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role
from deflect.api.webhook import verify_signature
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex

SECRET = "shared-with-the-helpdesk"


class Receiver:
    """Answers 503 to the first `failures` deliveries, then 200; keeps what it accepted."""

    def __init__(self, failures: int):
        self.failures = failures
        self.attempts: list[str] = []
        self.accepted: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.attempts.append(self.headers["x-deflect-delivery"])
                signed = verify_signature(
                    SECRET, self.headers["x-deflect-timestamp"], body, self.headers["x-deflect-signature"]
                )
                if len(receiver.attempts) <= receiver.failures or not signed:
                    self.send_response(503 if signed else 401)
                else:
                    receiver.accepted.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/deflect"


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    receiver = Receiver(failures=2)
    yield receiver
    receiver.server.shutdown()


def _client(tmp_path: Path, url: str, model: IntentModel, index: ArticleIndex) -> TestClient:
    settings = Settings(
        api_keys_file=tmp_path / "keys.json",
        answers_overrides_file=tmp_path / "answers.json",
        handoff_webhook_url=url,
        handoff_webhook_secret=SECRET,
        webhook_backoff_seconds=0.05,
        webhook_max_attempts=4,
    )
    key, _ = KeyStore(settings.api_keys_file).create("shop backend", Role.SERVER)  # names its conversations
    app = create_app(settings, Suggester(model, index, settings))
    return TestClient(app, headers={"Authorization": f"Bearer {key}"})


def _wait_for(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.02)


def test_a_handoff_is_delivered_once_signed_after_retries(
    tmp_path: Path, receiver: Receiver, demo_model: IntentModel, demo_index: ArticleIndex
) -> None:
    with _client(tmp_path, receiver.url, demo_model, demo_index) as client:
        first = client.post("/v1/suggest", json={"text": "환불 언제 들어와요?", "conversation_id": "c-hook"}).json()
        handoff = client.post("/v1/suggest", json={"text": "상담원 연결해 주세요", "conversation_id": "c-hook"}).json()
        again = client.post("/v1/suggest", json={"text": "사람이랑 얘기할래요", "conversation_id": "c-hook"}).json()
        _wait_for(lambda: receiver.accepted)
        metrics = client.get("/metrics").text

    assert first["decision"] != "handoff" and handoff["decision"] == again["decision"] == "handoff"
    assert len(receiver.accepted) == 1 and len(receiver.attempts) == 3  # two 503s, then delivered
    delivery = receiver.accepted[0]
    assert delivery["event"] == "handoff" and set(receiver.attempts) == {delivery["delivery_id"]}
    package = delivery["package"]
    assert package["conversation_id"] == "c-hook" and package["reason_code"] == "person_requested"
    assert package["route"]["team"] and package["route"]["language"] == "ko"
    assert [turn["text"] for turn in package["transcript"]][0] == "환불 언제 들어와요?"
    assert 'deflect_webhook_deliveries_total{outcome="delivered"} 1.0' in metrics
    assert 'deflect_webhook_deliveries_total{outcome="retried"} 2.0' in metrics


def test_a_receiver_that_never_answers_is_counted_as_failed(
    tmp_path: Path, demo_model: IntentModel, demo_index: ArticleIndex
) -> None:
    with _client(tmp_path, "http://127.0.0.1:1/unreachable", demo_model, demo_index) as client:
        client.post("/v1/suggest", json={"text": "talk to a human please"})
        _wait_for(lambda: 'outcome="failed"} 1.0' in client.get("/metrics").text)
        metrics = client.get("/metrics").text

    assert 'deflect_webhook_deliveries_total{outcome="failed"} 1.0' in metrics
    assert 'deflect_webhook_deliveries_total{outcome="retried"} 3.0' in metrics


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
            _wait_for(lambda: receiver.accepted)
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
