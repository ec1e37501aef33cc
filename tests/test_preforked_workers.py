"""`deflect serve --workers N`: the model is loaded once and the workers are forked from the process holding it, so
they share its memory; they share conversations through Redis, a worker that dies is replaced, and SIGTERM stops
them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import redis
from live_server import free_port, start_deflect_serve, wait_for

from benchmarks.process_memory import memory_of, process_tree
from deflect.api.auth import KeyStore, Role

REDIS_URL = os.environ.get("DEFLECT_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


def _workers(server: subprocess.Popen) -> list[int]:
    return process_tree(server.pid)[1:]


def test_forked_workers_share_the_model_and_the_conversations(
    optimized_model_dir: Path, demo_index_dir: Path, tmp_path: Path
) -> None:
    redis.Redis.from_url(REDIS_URL).flushdb()
    key, _ = KeyStore(tmp_path / "keys.json").create("widget", Role.WIDGET)
    port = free_port()
    database = f"sqlite:///{tmp_path / 'events.db'}"
    server = start_deflect_serve(
        optimized_model_dir, demo_index_dir, tmp_path, database, port, workers=2, redis_url=REDIS_URL
    )
    try:
        workers = _workers(server)
        assert len(workers) == 2
        headers = {"Authorization": f"Bearer {key}"}
        url = f"http://127.0.0.1:{port}/v1/suggest"
        first = httpx.post(url, json={"text": "택배가 어디에 있나요?"}, headers=headers, timeout=30).json()
        conversation = {"conversation_id": first["conversation_id"], "conversation_token": first["conversation_token"]}
        # a new connection each time: the kernel hands it to either worker, and both know the conversation
        for text in ["still nothing", "아직 안 왔어요", "where is it", "언제 와요?", "hello?", "환불할래요"]:
            answer = httpx.post(url, json={"text": text, **conversation}, headers=headers, timeout=30)
            assert answer.status_code == 200, answer.text
            assert answer.json()["conversation_id"] == first["conversation_id"]
            assert answer.json()["intent"]["name"]

        # the encoder's weights, Kiwi's model and the index were loaded before the fork: most of each worker's
        # memory is pages it shares with the supervisor, not a copy of its own
        for worker in workers:
            memory = memory_of(worker)
            assert memory.uss_mib < memory.rss_mib / 3, memory

        os.kill(workers[0], signal.SIGKILL)
        wait_for(lambda: len(_workers(server)) == 2 and workers[0] not in _workers(server), seconds=60)
        replacement = next(pid for pid in _workers(server) if pid not in workers)
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200, seconds=60)
        assert memory_of(replacement).uss_mib < memory_of(replacement).rss_mib / 3  # forked again, still shared

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        time.sleep(0.5)
        for worker in [workers[1], replacement]:
            assert not Path(f"/proc/{worker}").exists() or "zombie" in Path(f"/proc/{worker}/status").read_text()
    finally:
        if server.poll() is None:
            server.kill()


def test_zero_workers_is_refused_with_a_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deflect.cli.main", "serve", "--workers", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DEFLECT_API_KEYS_FILE": str(tmp_path / "keys.json")},
    )
    assert result.returncode == 2
    assert "--workers 0: give at least 1 worker" in result.stderr
