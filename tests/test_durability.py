"""An event the API acknowledged is never lost, on SQLite and PostgreSQL: the server process is killed (SIGKILL) in
the middle of a burst of suggestions stored by group commit (concurrent requests' suggestions in one transaction),
and every suggestion it answered with 200 is in the event database after the restart."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
from live_server import free_port, start_deflect_serve
from prometheus_client.parser import text_string_to_metric_families

from deflect.api.auth import KeyStore, Role
from deflect.store.events import EventStore

MESSAGES = ["where is my parcel", "택배가 어디에 있나요?", "I want a refund", "비밀번호를 잊어버렸어요"]


def _suggestions_per_commit(port: int) -> float:
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    for family in text_string_to_metric_families(metrics):
        if family.name == "deflect_event_commit_batch_size":
            values = {sample.name: sample.value for sample in family.samples}
            return values["deflect_event_commit_batch_size_sum"] / values["deflect_event_commit_batch_size_count"]
    raise AssertionError("no commit batch metric")


def test_every_acknowledged_suggestion_survives_a_killed_server(
    demo_model_dir: Path, demo_index_dir: Path, tmp_path: Path, database_url: str
) -> None:
    widget_key, _ = KeyStore(tmp_path / "keys.json").create("widget", Role.WIDGET)
    port = free_port()
    server = start_deflect_serve(demo_model_dir, demo_index_dir, tmp_path, database_url, port)
    acknowledged: list[str] = []
    failed = 0
    lock = threading.Lock()
    stop = threading.Event()

    def customer(number: int) -> None:
        nonlocal failed
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {widget_key}"}) as c:
            sent = 0
            while not stop.is_set():
                try:
                    message = {"text": f"{MESSAGES[sent % 4]} #{number}-{sent}"}
                    response = c.post("/v1/suggest", json=message, timeout=30)
                except httpx.HTTPError:
                    with lock:
                        failed += 1
                    if server.poll() is not None:  # the server is gone: this customer stops
                        return
                    continue
                sent += 1
                if response.status_code == 200:
                    with lock:
                        acknowledged.append(response.json()["suggestion_id"])

    customers = [threading.Thread(target=customer, args=(n,)) for n in range(8)]
    for thread in customers:
        thread.start()
    deadline = time.monotonic() + 120
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    shared_transactions = _suggestions_per_commit(port)
    server.send_signal(signal.SIGKILL)
    server.wait()
    stop.set()
    for thread in customers:
        thread.join(timeout=60)

    assert len(acknowledged) >= 40 and failed > 0  # the kill really landed in the middle of the burst
    assert shared_transactions > 1.0  # eight customers at once: their suggestions were committed together
    restarted = start_deflect_serve(demo_model_dir, demo_index_dir, tmp_path, database_url, free_port())
    try:
        store = EventStore(database_url)
        stored = {s.id for s in store.suggestions()}
        store.close()
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)
    assert set(acknowledged) <= stored
