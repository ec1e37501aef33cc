"""The load benchmark's two clients, which send the same requests over kept-alive connections (one per simulated
customer): an asyncio client in Python, which counts every request but shares the two cores with the server, and
`wrk` (Debian's package, driven by `benchmarks/wrk_post.lua`), an event-driven C client on one thread that takes far
less of them. Each returns the same figures."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

WRK_SCRIPT = Path(__file__).with_name("wrk_post.lua")


@dataclass(frozen=True)
class Post:
    path: str
    body: dict[str, Any]


@dataclass(frozen=True)
class ClientRun:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "throughput_rps": round(self.requests / self.seconds, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p95_ms": round(self.p95_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "mean_ms": round(self.mean_ms, 2),
        }


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _request(post: Post, headers: dict[str, str]) -> bytes:
    payload = json.dumps(post.body, ensure_ascii=False).encode()
    head = [f"POST {post.path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head.append(f"Content-Length: {len(payload)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """One HTTP/1.1 request on a kept-alive connection; returns the status code (the body is read and dropped)."""
    writer.write(request)
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(status_line.split()[1])


async def _load(port: int, requests: list[bytes], concurrency: int) -> tuple[float, list[float], int]:
    pending: Iterator[bytes] = iter(requests)
    latencies: list[float] = []
    errors = 0

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in pending:
                started = time.perf_counter()
                status = await _exchange(reader, writer, request)
                latencies.append((time.perf_counter() - started) * 1000)
                errors += status != 200
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, errors


def run_python(port: int, posts: Sequence[Post], concurrency: int, headers: dict[str, str]) -> ClientRun:
    """Every post once, by `concurrency` clients taking the next one as they finish the last."""
    requests = [_request(post, headers) for post in posts]
    seconds, latencies, errors = asyncio.run(_load(port, requests, concurrency))
    figures = np.array(latencies) if latencies else np.array([np.nan])
    p50, p95, p99 = (float(np.percentile(figures, q)) for q in (50, 95, 99))
    return ClientRun(len(latencies), seconds, errors, p50, p95, p99, float(figures.mean()))


def run_wrk(port: int, posts: Sequence[Post], concurrency: int, headers: dict[str, str], seconds: float) -> ClientRun:
    """wrk on one thread with `concurrency` connections for `seconds`, cycling through the posts' bodies (all to the
    first post's path)."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8") as bodies:
        for post in posts:
            bodies.write(json.dumps(post.body, ensure_ascii=False) + "\n")
        bodies.flush()
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds:g}s", "--timeout", "30s", "-s", str(WRK_SCRIPT)]
        command += [f"http://127.0.0.1:{port}", "--", bodies.name, posts[0].path, headers.get("Authorization", "")]
        output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 120).stdout
    found = re.search(r"^WRK_RESULT (\{.*\})$", output, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    figures = json.loads(found.group(1))
    return ClientRun(
        figures["requests"],
        figures["seconds"],
        figures["errors"],
        figures["p50_ms"],
        figures["p95_ms"],
        figures["p99_ms"],
        figures["mean_ms"],
    )
