"""Load benchmark of the suggest API: latency percentiles and throughput at several concurrencies, for Deflect's
server and, in the same run, the naive baseline (the same model and index called once per request from a plain
FastAPI route, `benchmarks/naive_server.py`), each as a share of the in-process limit measured first on the same
messages (`benchmarks/pipeline_limit.py`: the pipeline called as a library, batched as the server batches).

    make build   # demo model, its ONNX export (deflect optimize) and the demo index
    .venv/bin/python -m benchmarks.load_benchmark [--requests 400] [--concurrency 1,8,32]

Each server runs alone, as one uvicorn worker started the way users start it, while this process sends requests
over keep-alive connections (one per simulated client). Messages are the demo test set's Korean and English
utterances; Deflect's analysis cache is switched off, so every message is encoded (a repeated message would only
measure the cache), and every suggestion is stored in a SQLite event database before it is answered. Prints a
table and writes benchmarks/results/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.paths import RESULTS, ROOT
from benchmarks.pipeline_limit import format_limits, limit_for, pipeline_limit
from benchmarks.process_memory import is_worker, memory_of, process_tree
from deflect.core.demo import DEMO_TEST
from deflect.export.optimize import current_report
from deflect.ingest.utterances import load_utterances

MESSAGES_PER_CONVERSATION = 5
TYPEAHEAD_MIN_CHARS = 4


@dataclass(frozen=True)
class ServerKind:
    name: str
    description: str
    naive: bool = False
    runtime: str = "auto"
    workers: int = 1  # more than one: `deflect serve --workers N` sharing state through Redis


SERVERS = {
    "naive": ServerKind("naive", "plain FastAPI route, original encoder, one call per request", naive=True),
    "native": ServerKind("native", "Deflect server, original encoder, micro-batching", runtime="native"),
    "onnx": ServerKind(
        "onnx", "Deflect server, ONNX Runtime encoder (`deflect optimize`), micro-batching", runtime="onnx"
    ),
    "onnx-2w": ServerKind("onnx-2w", "the onnx server with --workers 2 and Redis", runtime="onnx", workers=2),
}
REDIS_DATABASE = "redis://127.0.0.1:6379/13"  # emptied before a multi-worker server starts


@dataclass
class LoadResult:
    server: str
    route: str
    concurrency: int
    requests: int
    seconds: float
    errors: int
    latencies_ms: list[float] = field(repr=False)

    def summary(self) -> dict[str, Any]:
        latencies = np.array(self.latencies_ms) if self.latencies_ms else np.array([np.nan])
        return {
            "server": self.server,
            "route": self.route,
            "concurrency": self.concurrency,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "throughput_rps": round(self.requests / self.seconds, 1),
            "p50_ms": round(float(np.percentile(latencies, 50)), 2),
            "p95_ms": round(float(np.percentile(latencies, 95)), 2),
            "p99_ms": round(float(np.percentile(latencies, 99)), 2),
            "mean_ms": round(float(latencies.mean()), 2),
        }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


def _request(path: str, body: dict[str, Any], headers: dict[str, str]) -> bytes:
    payload = json.dumps(body, ensure_ascii=False).encode()
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head.append(f"Content-Length: {len(payload)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


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


def run_load(port: int, requests: list[bytes], concurrency: int) -> tuple[float, list[float], int]:
    return asyncio.run(_load(port, requests, concurrency))


def suggest_requests(texts: Sequence[str], count: int, headers: dict[str, str], offset: int = 0) -> list[bytes]:
    """`count` messages cycling through `texts`; every few messages share a conversation, as a chat does."""
    return [
        _request(
            "/v1/suggest",
            {
                "text": texts[(offset + i) % len(texts)],
                "conversation_id": f"load-{offset + i // MESSAGES_PER_CONVERSATION}",
            },
            headers,
        )
        for i in range(count)
    ]


def typeahead_requests(texts: Sequence[str], count: int, headers: dict[str, str]) -> list[bytes]:
    """What a widget sends while the customer types: the growing prefix, every few keystrokes."""
    prefixes = [
        text[:end] for text in texts for end in range(TYPEAHEAD_MIN_CHARS, len(text) + 1, 3) if text[:end].strip()
    ]
    return [_request("/v1/suggest/typeahead", {"text": prefixes[i % len(prefixes)]}, headers) for i in range(count)]


class Server:
    """A server process on a free port, started like a user would, stopped at exit."""

    def __init__(self, kind: ServerKind, model: Path, index: Path, workdir: Path):
        self.kind = kind
        self.port = _free_port()
        self.headers: dict[str, str] = {}
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DEFLECT_REDIS_URL")}
        env["HF_HUB_OFFLINE"] = "1"
        if kind.naive:
            command = [sys.executable, "-m", "benchmarks.naive_server", "--model", str(model)]
            command += ["--index", str(index), "--port", str(self.port)]
        else:
            from deflect.api.auth import KeyStore, Role

            keys = workdir / f"keys-{kind.name}.json"
            # a server key: the requests are prepared before the run, so they name their conversations
            secret, _ = KeyStore(keys).create("load-benchmark", Role.SERVER)
            self.headers = {"Authorization": f"Bearer {secret}"}
            env.update(
                DEFLECT_API_KEYS_FILE=str(keys),
                DEFLECT_ANSWERS_OVERRIDES_FILE=str(workdir / "answers.json"),
                DEFLECT_ANALYSIS_CACHE_SIZE="0",
                DEFLECT_RATE_LIMIT_PER_MINUTE="100000000",
                DEFLECT_CONVERSATION_MESSAGES_PER_MINUTE="0",
                DEFLECT_ENCODER_RUNTIME=kind.runtime,
                DEFLECT_DATABASE_URL=f"sqlite:///{workdir / 'events.db'}",  # every suggestion is stored, as served
            )
            command = [sys.executable, "-m", "deflect.cli.main", "serve", "--model", str(model), "--index", str(index)]
            command += ["--port", str(self.port), "--workers", str(kind.workers)]
            if kind.workers > 1:
                import redis

                redis.Redis.from_url(REDIS_DATABASE).flushdb()  # no conversations left from an earlier run
                env["DEFLECT_REDIS_URL"] = REDIS_DATABASE
        self.log = (workdir / f"{kind.name}.log").open("w")
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 300.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.flush()
                last = Path(self.log.name).read_text(errors="replace").splitlines()[-15:]
                raise RuntimeError(f"{self.kind.name} server exited:\n" + "\n".join(last))
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.kind.name} server not ready after {timeout:.0f} s; see {self.log.name}")

    def memory_mib(self) -> dict[str, Any]:
        """RSS of the server: its one process, or with workers each worker's and the total with the supervisor."""
        processes = process_tree(self.process.pid)
        figures = [memory_of(pid) for pid in processes]
        total: dict[str, Any] = {
            "rss_mib": round(sum(f[0] for f in figures), 1),
            "peak_rss_mib": round(sum(f[1] for f in figures), 1),
        }
        if len(processes) > 1:  # the supervisor, its workers, and multiprocessing's resource tracker
            workers = [round(f[0], 1) for pid, f in zip(processes, figures, strict=True) if is_worker(pid)]
            total["workers_rss_mib"] = workers
        return total

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def benchmark_server(
    kind: ServerKind, model: Path, index: Path, texts: list[str], concurrencies: Sequence[int], base_requests: int
) -> tuple[list[LoadResult], dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="deflect-load-") as work:
        server = Server(kind, model, index, Path(work))
        try:
            server.wait_ready()
            run_load(server.port, suggest_requests(texts, 40, server.headers, offset=len(texts) // 2), 4)  # warm-up
            routes = ["suggest"] if kind.naive else ["suggest", "typeahead"]
            results = []
            for route in routes:
                for concurrency in concurrencies:
                    count = base_requests * max(1, min(4, concurrency // 4))
                    if route == "suggest":
                        requests = suggest_requests(texts, count, server.headers)
                    else:
                        requests = typeahead_requests(texts, count, server.headers)
                    seconds, latencies, errors = run_load(server.port, requests, concurrency)
                    result = LoadResult(kind.name, route, concurrency, count, seconds, errors, latencies)
                    results.append(result)
                    row = result.summary()
                    print(
                        f"  {kind.name:<7}{route:<10}c={concurrency:<3}{row['throughput_rps']:>8.1f} rps  p50 "
                        f"{row['p50_ms']:>6.1f}  p95 {row['p95_ms']:>6.1f}  p99 {row['p99_ms']:>6.1f} ms  "
                        f"errors {errors}",
                        flush=True,
                    )
            return results, server.memory_mib()
        finally:
            server.stop()


def format_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'server':<8}{'route':<11}{'conc.':>6}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'p99 ms':>9}{'errors':>8}{'of limit':>10}"
    ]
    for r in rows:
        share = f"{r['share_of_limit']:.0%}" if "share_of_limit" in r else "-"
        lines.append(
            f"{r['server']:<8}{r['route']:<11}{r['concurrency']:>6}{r['requests']:>10}{r['throughput_rps']:>9.1f}"
            f"{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['errors']:>8}{share:>10}"
        )
    return "\n".join(lines)


def with_limit_shares(rows: list[dict[str, Any]], limits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each suggest row's throughput as a share of the in-process limit at the batch size its concurrency allows,
    and its p50 latency above the in-process time of one message."""
    single = limit_for(limits, 1)
    shared = []
    for row in rows:
        if row["route"] == "suggest":
            limit = limit_for(limits, row["concurrency"])
            row = {
                **row,
                "limit_batch_size": limit["batch_size"],
                "share_of_limit": round(row["throughput_rps"] / limit["messages_per_second"], 3),
                "p50_above_in_process_ms": round(row["p50_ms"] - single["p50_ms"], 2),
            }
        shared.append(row)
    return shared


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "demo")
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "demo")
    parser.add_argument("--servers", default="naive,native,onnx", help=f"any of {', '.join(SERVERS)}")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--requests", type=int, default=400, help="requests at concurrency 1 (more at higher ones)")
    parser.add_argument("--output", type=Path, default=RESULTS / "load.json")
    args = parser.parse_args(argv)

    kinds = [SERVERS[name] for name in args.servers.split(",")]
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    check = current_report(args.model)
    if any(kind.runtime == "onnx" for kind in kinds) and check is None:
        print(f"{args.model} has no current ONNX export: run `make build` (or deflect optimize) first", file=sys.stderr)
        return 2
    texts = list(dict.fromkeys(u.text for u in load_utterances(DEMO_TEST)))
    print(f"{len(texts)} distinct demo test messages (Korean and English); {os.cpu_count()} CPUs", flush=True)
    limit_runtime = "onnx" if check else "native"
    print(f"in-process limit ({limit_runtime} encoder; normalise, encode, classify, search, store):", flush=True)
    limits = pipeline_limit(args.model, args.index, texts, limit_runtime)
    print(format_limits(limits), flush=True)

    rows: list[dict[str, Any]] = []
    memory: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        print(f"{kind.name}: {kind.description}", flush=True)
        results, memory[kind.name] = benchmark_server(kind, args.model, args.index, texts, concurrencies, args.requests)
        rows += [result.summary() for result in results]

    rows = with_limit_shares(rows, limits)
    print()
    print(format_table(rows))
    for row in rows:
        if row["route"] == "suggest" and row["concurrency"] == 1:
            print(f"{row['server']} at concurrency 1: p50 {row['p50_above_in_process_ms']:+.1f} ms over in-process")
    for name, figures in memory.items():
        workers = figures.get("workers_rss_mib")
        each = f" (workers {', '.join(f'{w:.0f}' for w in workers)} MiB)" if workers else ""
        print(f"{name}: RSS {figures['rss_mib']:.0f} MiB at the end{each}, peak {figures['peak_rss_mib']:.0f} MiB")
    throughput = {(r["server"], r["route"], r["concurrency"]): r["throughput_rps"] for r in rows}
    speedups = {}
    for concurrency in concurrencies:
        naive = throughput.get(("naive", "suggest", concurrency))
        for kind in kinds:
            ours = throughput.get((kind.name, "suggest", concurrency))
            if naive and ours and not kind.naive:
                speedups[f"{kind.name}_c{concurrency}"] = round(ours / naive, 2)
                print(f"{kind.name} vs naive at concurrency {concurrency}: {ours / naive:.1f}× the throughput")
    for concurrency in concurrencies:
        one, two = throughput.get(("onnx", "suggest", concurrency)), throughput.get(("onnx-2w", "suggest", concurrency))
        if one and two:
            speedups[f"onnx_2_workers_vs_1_c{concurrency}"] = round(two / one, 2)
            print(f"onnx with 2 workers vs 1 at concurrency {concurrency}: {two / one:.2f}× the throughput")
    if check:
        print(
            f"ONNX encoder (weights: {', '.join(f'{p} {w}' for p, w in check.get('weights', {}).items()) or '?'}) "
            f"checked on {check.get('checked_on') or 'labelled data'} ({check['examples']} utterances): accuracy "
            f"{check['accuracy_native']:.2%} → {check['accuracy_onnx']:.2%}, after rejection "
            f"{check['in_scope_accuracy_native']:.2%} → {check['in_scope_accuracy_onnx']:.2%}"
        )

    report = {
        "command": "python -m benchmarks.load_benchmark " + " ".join(argv or sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor(), "python": platform.python_version()},
        "model": str(args.model),
        "messages": len(texts),
        "analysis_cache": "off",
        "servers": {kind.name: asdict(kind) for kind in kinds},
        "in_process_limit": {"runtime": limit_runtime, "batches": limits},
        "results": rows,
        "memory_mib": memory,
        "speedup_vs_naive": speedups,
        "onnx_check": check,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
