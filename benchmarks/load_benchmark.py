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
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.load_clients import Post, run_python, run_wrk, wrk_available
from benchmarks.paths import RESULTS, ROOT
from benchmarks.pipeline_limit import format_limits, limit_for, pipeline_limit
from benchmarks.process_memory import memory_of, process_tree
from deflect.core.demo import DEMO_TEST
from deflect.export.optimize import current_report
from deflect.ingest.utterances import load_utterances

MESSAGES_PER_CONVERSATION = 5
WRK_POSTS = 20_000  # more than wrk sends in its run: no conversation is revisited
TYPEAHEAD_MIN_CHARS = 4


@dataclass(frozen=True)
class ServerKind:
    name: str
    description: str
    naive: bool = False
    runtime: str = "auto"
    workers: int = 1  # more than one: `deflect serve --workers N` sharing state through Redis
    commit_batch: int = 64  # DEFLECT_EVENT_COMMIT_BATCH: 1 stores each suggestion in its own transaction
    database: str = "sqlite"  # or "postgresql": a fresh schema in POSTGRES_DATABASE


SERVERS = {
    "naive": ServerKind("naive", "plain FastAPI route, original encoder, one call per request", naive=True),
    "native": ServerKind("native", "Deflect server, original encoder, micro-batching", runtime="native"),
    "onnx": ServerKind(
        "onnx", "Deflect server, ONNX Runtime encoder (`deflect optimize`), micro-batching", runtime="onnx"
    ),
    "onnx-1tx": ServerKind(
        "onnx-1tx", "the onnx server without group commit: a transaction per suggestion", runtime="onnx", commit_batch=1
    ),
    "onnx-2w": ServerKind(
        "onnx-2w", "the onnx server with --workers 2 (forked after loading) and Redis", runtime="onnx", workers=2
    ),
    "onnx-pg": ServerKind(
        "onnx-pg", "the onnx server storing events in PostgreSQL", runtime="onnx", database="postgresql"
    ),
    "onnx-pg-1tx": ServerKind(
        "onnx-pg-1tx",
        "the onnx server storing events in PostgreSQL, a transaction per suggestion",
        runtime="onnx",
        commit_batch=1,
        database="postgresql",
    ),
}
# (server, the server it is compared with, what the ratio measures)
PAIRS = (
    ("onnx-2w", "onnx", "onnx with 2 workers vs 1"),
    ("onnx", "onnx-1tx", "group commit vs a transaction per suggestion, SQLite"),
    ("onnx-pg", "onnx-pg-1tx", "group commit vs a transaction per suggestion, PostgreSQL"),
)
REDIS_DATABASE = "redis://127.0.0.1:6379/13"  # emptied before a multi-worker server starts
POSTGRES_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_SCHEMA = "deflect_load_benchmark"  # created afresh for each PostgreSQL server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def suggest_posts(texts: Sequence[str], count: int, offset: int = 0) -> list[Post]:
    """`count` messages cycling through `texts`; every few messages share a conversation, as a chat does."""
    return [
        Post(
            "/v1/suggest",
            {
                "text": texts[(offset + i) % len(texts)],
                "conversation_id": f"load-{offset + i // MESSAGES_PER_CONVERSATION}",
            },
        )
        for i in range(count)
    ]


def typeahead_posts(texts: Sequence[str], count: int) -> list[Post]:
    """What a widget sends while the customer types: the growing prefix, every few keystrokes."""
    prefixes = [
        text[:end] for text in texts for end in range(TYPEAHEAD_MIN_CHARS, len(text) + 1, 3) if text[:end].strip()
    ]
    return [Post("/v1/suggest/typeahead", {"text": prefixes[i % len(prefixes)]}) for i in range(count)]


def _event_database(kind: ServerKind, workdir: Path) -> str:
    if kind.database == "sqlite":
        return f"sqlite:///{workdir / f'events-{kind.name}.db'}"
    from sqlalchemy import create_engine, text

    driver_url = POSTGRES_DATABASE.replace("postgresql://", "postgresql+psycopg://")
    admin = create_engine(driver_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {POSTGRES_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {POSTGRES_SCHEMA}"))
    admin.dispose()
    return f"{POSTGRES_DATABASE}?options=-csearch_path%3D{POSTGRES_SCHEMA}"


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
                DEFLECT_EVENT_COMMIT_BATCH=str(kind.commit_batch),
                DEFLECT_DATABASE_URL=_event_database(kind, workdir),  # every suggestion is stored, as served
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
        """The server's memory at the end of its run: each process's RSS, PSS and USS (the supervisor first, then
        its workers) and what the server costs in all, the sum of their PSS."""
        processes = [memory_of(pid) for pid in process_tree(self.process.pid)]
        workers = processes[1:] if len(processes) > 1 else processes
        return {
            "total_pss_mib": round(sum(p.pss_mib for p in processes), 1),
            "worker_rss_mib": [p.rss_mib for p in workers],
            "worker_uss_mib": [p.uss_mib for p in workers],
            "peak_rss_mib": max(p.peak_rss_mib for p in processes),
            "processes": [asdict(p) for p in processes],
        }

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def benchmark_server(
    kind: ServerKind,
    model: Path,
    index: Path,
    texts: list[str],
    concurrencies: Sequence[int],
    base_requests: int,
    clients: Sequence[str],
    wrk_seconds: float,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="deflect-load-") as work:
        server = Server(kind, model, index, Path(work))
        try:
            server.wait_ready()
            run_python(server.port, suggest_posts(texts, 40, offset=len(texts) // 2), 4, server.headers)  # warm-up
            routes = ["suggest"] if kind.naive else ["suggest", "typeahead"]
            rows = []
            conversations = 0  # each run's messages start new conversations
            for route in routes:
                for concurrency in concurrencies:
                    for client in clients:
                        count = WRK_POSTS if client == "wrk" else base_requests * max(1, min(4, concurrency // 4))
                        if route == "suggest":
                            posts = suggest_posts(texts, count, offset=conversations * MESSAGES_PER_CONVERSATION)
                            conversations += count // MESSAGES_PER_CONVERSATION + 1
                        else:
                            posts = typeahead_posts(texts, count)
                        if client == "wrk":
                            run = run_wrk(server.port, posts, concurrency, server.headers, wrk_seconds)
                        else:
                            run = run_python(server.port, posts, concurrency, server.headers)
                        row = {"server": kind.name, "client": client, "route": route, "concurrency": concurrency}
                        row |= run.summary()
                        rows.append(row)
                        print(
                            f"  {kind.name:<8}{client:<7}{route:<10}c={concurrency:<3}{row['throughput_rps']:>8.1f} "
                            f"rps  p50 {row['p50_ms']:>6.1f}  p95 {row['p95_ms']:>6.1f}  p99 {row['p99_ms']:>6.1f} ms  "
                            f"errors {row['errors']}",
                            flush=True,
                        )
            return rows, server.memory_mib()
        finally:
            server.stop()


def format_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'server':<9}{'client':<8}{'route':<11}{'conc.':>6}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'p99 ms':>9}{'errors':>8}{'of limit':>10}"
    ]
    for r in rows:
        share = f"{r['share_of_limit']:.0%}" if "share_of_limit" in r else "-"
        lines.append(
            f"{r['server']:<9}{r['client']:<8}{r['route']:<11}{r['concurrency']:>6}{r['requests']:>10}"
            f"{r['throughput_rps']:>9.1f}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['errors']:>8}"
            f"{share:>10}"
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


def print_ratios(
    rows: list[dict[str, Any]],
    memory: dict[str, dict[str, Any]],
    kinds: Sequence[ServerKind],
    concurrencies: Sequence[int],
    clients: Sequence[str],
) -> dict[str, float]:
    """Prints each server's latency over in-process, its memory and its throughput against the naive route's and
    (two workers) against one worker's, by client; returns the ratios."""
    for row in rows:
        if row["route"] == "suggest" and row["concurrency"] == 1:
            print(
                f"{row['server']} ({row['client']}) at concurrency 1: p50 {row['p50_above_in_process_ms']:+.1f} ms "
                "over in-process"
            )
    for name, figures in memory.items():
        rss = ", ".join(f"{w:.0f}" for w in figures["worker_rss_mib"])
        uss = ", ".join(f"{w:.0f}" for w in figures["worker_uss_mib"])
        print(
            f"{name}: {figures['total_pss_mib']:.0f} MiB in all (PSS) at the end; RSS per worker {rss} MiB, "
            f"of which its own (USS) {uss} MiB; peak RSS {figures['peak_rss_mib']:.0f} MiB"
        )
    throughput = {(r["server"], r["client"], r["route"], r["concurrency"]): r["throughput_rps"] for r in rows}
    ratios = {}
    for client in clients:
        for concurrency in concurrencies:
            naive = throughput.get(("naive", client, "suggest", concurrency))
            for kind in kinds:
                ours = throughput.get((kind.name, client, "suggest", concurrency))
                if naive and ours and not kind.naive:
                    ratios[f"{kind.name}_{client}_c{concurrency}"] = round(ours / naive, 2)
                    print(f"{kind.name} vs naive ({client}) at concurrency {concurrency}: {ours / naive:.1f}×")
            for better, base, what in PAIRS:
                ours, theirs = (throughput.get((name, client, "suggest", concurrency)) for name in (better, base))
                if ours and theirs:
                    ratios[f"{better}_vs_{base}_{client}_c{concurrency}"] = round(ours / theirs, 2)
                    print(f"{what} ({client}) at concurrency {concurrency}: {ours / theirs:.2f}×")
    return ratios


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "demo")
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "demo")
    parser.add_argument("--servers", default="naive,native,onnx", help=f"any of {', '.join(SERVERS)}")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--requests", type=int, default=400, help="requests at concurrency 1 (more at higher ones)")
    parser.add_argument("--clients", default="python,wrk" if wrk_available() else "python", help="python and/or wrk")
    parser.add_argument("--wrk-seconds", type=float, default=10.0, help="length of each wrk run")
    parser.add_argument("--output", type=Path, default=RESULTS / "load.json")
    args = parser.parse_args(argv)
    clients = args.clients.split(",")
    if "wrk" in clients and not wrk_available():
        print("no wrk: apt-get install wrk (make load-benchmark does), or --clients python", file=sys.stderr)
        return 2

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
        served, memory[kind.name] = benchmark_server(
            kind, args.model, args.index, texts, concurrencies, args.requests, clients, args.wrk_seconds
        )
        rows += served

    rows = with_limit_shares(rows, limits)
    print()
    print(format_table(rows))
    speedups = print_ratios(rows, memory, kinds, concurrencies, clients)
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
        "clients": clients,
        "ratios": speedups,
        "onnx_check": check,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
