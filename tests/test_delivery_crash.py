"""Every acknowledged handoff reaches the helpdesk exactly once per delivery id, through a crash: a real
`deflect serve` sends handoffs to a receiver that fails and times out part of the time, is killed with SIGKILL in
the middle of a burst of handoffs, and is started again. The receiver drops repeats by `X-Deflect-Delivery`, as
the README tells receivers to; the test counts them (duplicates) and the handoffs that never arrived (lost: none).
"""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
from live_server import address, free_port, http_receiver, start_deflect_serve

from deflect.api.auth import KeyStore, Role
from deflect.delivery.webhook import verify_signature

SECRET = "crash-test-secret"
ASKING_FOR_A_PERSON = [
    "상담원 연결해 주세요",
    "talk to a human please",
    "사람이랑 얘기하고 싶어요",
    "I need a real agent",
]
TIMEOUT_SECONDS = 0.5  # the server's attempt timeout; the receiver's slow answers take twice as long


@dataclass
class FlakyHelpdesk:
    """A helpdesk that takes a delivery in (keeps it by delivery id) and answers 200 — except that, by a seeded
    draw, one attempt in five gets a 503 before anything is kept, one in ten is kept but answered after the
    sender's timeout, and one in ten is kept but answered 500 (the last two make the sender try again: duplicates).
    """

    seed: int = 7
    kept: dict[str, str] = field(default_factory=dict)  # delivery id → conversation id
    duplicates: int = 0
    refused: int = 0
    timed_out: int = 0
    failed_after_keeping: int = 0
    unsigned: int = 0

    def __post_init__(self) -> None:
        self.draw = random.Random(self.seed)
        self.lock = threading.Lock()
        helpdesk = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                status, delay = helpdesk.take(body, self.headers)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args: object) -> None:
                pass

        self.server = http_receiver(Handler)

    @property
    def url(self) -> str:
        return f"{address(self.server)}/deflect"

    def take(self, body: bytes, headers: object) -> tuple[int, float]:
        get = headers.get  # type: ignore[attr-defined]
        with self.lock:
            if not verify_signature(SECRET, get("x-deflect-timestamp"), body, get("x-deflect-signature")):
                self.unsigned += 1
                return 401, 0.0
            roll = self.draw.random()
            if roll < 0.2:
                self.refused += 1
                return 503, 0.0
            delivery_id = get("x-deflect-delivery")
            delivery = json.loads(body)
            assert delivery["delivery_id"] == delivery_id
            if delivery_id in self.kept:
                self.duplicates += 1
            self.kept[delivery_id] = delivery["package"]["conversation_id"]
            if roll < 0.3:
                self.timed_out += 1
                return 200, TIMEOUT_SECONDS * 2
            if roll < 0.4:
                self.failed_after_keeping += 1
                return 500, 0.0
            return 200, 0.0

    def conversations(self) -> dict[str, set[str]]:
        """Conversation id → the delivery ids that carried its handoff."""
        with self.lock:
            carried: dict[str, set[str]] = defaultdict(set)
            for delivery_id, conversation_id in self.kept.items():
                carried[conversation_id].add(delivery_id)
            return carried


@dataclass
class Burst:
    """Customers asking for a person, each in a new conversation, from several threads at once."""

    base_url: str
    key: str
    prefix: str
    sent: list[str] = field(default_factory=list)  # conversation ids
    acknowledged: list[str] = field(default_factory=list)  # answered 200 with a handoff
    failed: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def customer(self, number: int, most: int) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=30) as client:
            for turn in range(most):
                if self.stop.is_set():
                    return
                conversation_id = f"{self.prefix}-{number}-{turn}"
                with self.lock:
                    self.sent.append(conversation_id)
                message = {"text": ASKING_FOR_A_PERSON[turn % 4], "conversation_id": conversation_id}
                try:
                    response = client.post("/v1/suggest", json=message)
                except httpx.HTTPError:
                    with self.lock:
                        self.failed += 1
                    return  # the server is gone
                if response.status_code == 200 and response.json()["decision"] == "handoff":
                    with self.lock:
                        self.acknowledged.append(conversation_id)

    def run(self, customers: int, most: int) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.customer, args=(n, most)) for n in range(customers)]
        for thread in threads:
            thread.start()
        return threads


def test_every_acknowledged_handoff_is_delivered_exactly_once_per_delivery_id_through_a_kill(
    demo_model_dir: Path, demo_index_dir: Path, tmp_path: Path, database_url: str
) -> None:
    helpdesk = FlakyHelpdesk()
    server_key, _ = KeyStore(tmp_path / "keys.json").create("shop backend", Role.SERVER)
    delivery_settings = {
        "handoff_webhook_url": helpdesk.url,
        "handoff_webhook_secret": SECRET,
        "webhook_timeout_seconds": str(TIMEOUT_SECONDS),
        "webhook_backoff_seconds": "0.05",
        "webhook_max_backoff_seconds": "0.5",
        "webhook_max_attempts": "50",
        "outbox_lease_seconds": "3",
    }
    port = free_port()
    server = start_deflect_serve(demo_model_dir, demo_index_dir, tmp_path, database_url, port, **delivery_settings)
    before = Burst(f"http://127.0.0.1:{port}", server_key, "before")
    threads = before.run(customers=6, most=40)
    deadline = time.monotonic() + 120
    while len(before.acknowledged) < 30 and time.monotonic() < deadline:
        time.sleep(0.02)
    server.send_signal(signal.SIGKILL)
    server.wait()
    for thread in threads:
        thread.join(timeout=60)
    delivered_before_restart = set(helpdesk.conversations())

    port = free_port()
    server = start_deflect_serve(demo_model_dir, demo_index_dir, tmp_path, database_url, port, **delivery_settings)
    try:
        after = Burst(f"http://127.0.0.1:{port}", server_key, "after")
        for thread in after.run(customers=2, most=5):
            thread.join(timeout=60)
        acknowledged = set(before.acknowledged) | set(after.acknowledged)
        deadline = time.monotonic() + 120
        while not acknowledged <= set(helpdesk.conversations()) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2 * TIMEOUT_SECONDS)  # attempts still under way land before counting
    finally:
        server.terminate()
        server.wait(timeout=30)
        helpdesk.server.shutdown()

    carried = helpdesk.conversations()
    lost = acknowledged - set(carried)
    sent = len(before.sent) + len(after.sent)
    print(
        f"\ncrash test ({database_url.split(':')[0]}): {sent} handoffs sent, {len(acknowledged)} acknowledged, "
        f"{len(carried)} delivered ({len(delivered_before_restart)} before the kill), {helpdesk.duplicates} duplicates "
        f"dropped by delivery id, {len(lost)} lost; the helpdesk refused {helpdesk.refused}, timed out "
        f"{helpdesk.timed_out}, failed {helpdesk.failed_after_keeping} after keeping"
    )
    assert before.failed > 0  # the kill landed in the middle of the burst
    assert set(before.acknowledged) - delivered_before_restart  # handoffs acknowledged then still in the outbox
    assert len(before.acknowledged) >= 30 and len(after.acknowledged) == 10
    assert helpdesk.refused and helpdesk.timed_out and helpdesk.failed_after_keeping and not helpdesk.unsigned
    assert not lost
    assert set(carried) <= set(before.sent) | set(after.sent)
    assert all(len(delivery_ids) == 1 for delivery_ids in carried.values())  # one delivery id per handoff
