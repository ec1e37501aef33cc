"""Where a serving process spends the interpreter lock: the default server (ONNX encoder, one worker) under wrk at
concurrency 32 on the load benchmark's messages, sampled by py-spy (`--gil`: only the thread holding the lock is
sampled, so the shares say what keeps the others waiting). Prints and saves the share of samples per thread and
per layer of the innermost Python frame (our code, the numeric libraries, the event store, FastAPI and Starlette,
pydantic, the ASGI server and event loop, JSON, thread hand-offs).

    make build && apt-get install wrk   # py-spy comes with make setup (the benchmark extra)
    .venv/bin/python -m benchmarks.profile_server [--seconds 12] [--server onnx]

Writes benchmarks/results/profile-<server>.json."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.load_benchmark import SERVERS, Server, suggest_posts
from benchmarks.load_clients import run_python, run_wrk
from benchmarks.paths import RESULTS, ROOT
from deflect.core.demo import DEMO_TEST
from deflect.ingest.utterances import load_utterances

# innermost frame's file → layer; the first pattern that matches wins
LAYERS = [
    ("deflect (our code)", r"^deflect/"),
    ("numeric (numpy, faiss, bm25s, onnxruntime, tokenizers)", r"^(numpy|faiss|bm25s|onnxruntime|tokenizers|scipy)/"),
    ("event store (sqlalchemy, sqlite3, psycopg)", r"^(sqlalchemy|sqlite3|psycopg|alembic)/"),
    ("pydantic", r"^pydantic(_core)?/"),
    ("FastAPI, Starlette, AnyIO", r"^(fastapi|starlette|anyio)/"),
    ("ASGI server and event loop (uvicorn, httptools, asyncio)", r"^(uvicorn|h11|httptools|asyncio|uvloop)/"),
    ("JSON", r"^json/"),
    ("thread hand-offs (threading, queue, futures)", r"^(threading|queue)\.py|^concurrent/"),
    ("Korean analyser (kiwipiepy)", r"^kiwipiepy/"),
    ("metrics (prometheus_client)", r"^prometheus_client/"),
]
SAMPLE = re.compile(r"^thread \(\d+\): ?(?P<thread>[^;]*);(?P<stack>.*) (?P<count>\d+)$")
FRAME_FILE = re.compile(r"\((?P<file>[^():]+):\d+\)$")


def _layer(frame: str) -> str:
    found = FRAME_FILE.search(frame)
    file = found.group("file") if found else frame
    for layer, pattern in LAYERS:
        if re.search(pattern, file):
            return layer
    return "other: " + file.split("/")[0]


def _thread_kind(name: str) -> str:
    if name.startswith("AnyIO worker thread"):
        return "request threads (AnyIO worker threads)"
    if name in ("MainThread", ""):
        return "event loop (MainThread)"
    return name


def summarise(raw: str) -> dict[str, Any]:
    threads: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    loop_layers: Counter[str] = Counter()
    for line in raw.splitlines():
        sample = SAMPLE.match(line.strip())
        if sample is None:
            continue
        count = int(sample.group("count"))
        thread = _thread_kind(sample.group("thread").strip())
        layer = _layer(sample.group("stack").split(";")[-1])
        threads[thread] += count
        layers[layer] += count
        if thread.startswith("event loop"):
            loop_layers[layer] += count
    total = sum(threads.values()) or 1

    def shares(counter: Counter[str]) -> dict[str, float]:
        return {name: round(count / total, 3) for name, count in counter.most_common()}

    return {"samples": total, "threads": shares(threads), "layers": shares(layers), "event_loop": shares(loop_layers)}


def profile(server_name: str, seconds: float, concurrency: int) -> dict[str, Any]:
    texts = list(dict.fromkeys(u.text for u in load_utterances(DEMO_TEST)))
    with tempfile.TemporaryDirectory(prefix="deflect-profile-") as work:
        server = Server(SERVERS[server_name], ROOT / "models" / "demo", ROOT / "indexes" / "demo", Path(work))
        try:
            server.wait_ready()
            run_python(server.port, suggest_posts(texts, 60, offset=300), 4, server.headers)  # warm-up
            samples = Path(work) / "samples.txt"
            spy = subprocess.Popen(
                [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(server.process.pid)]
                + ["--duration", f"{seconds:g}", "--rate", "250", "--gil", "--threads", "--nonblocking"]
                + ["--format", "raw", "--output", str(samples)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
            posts = suggest_posts(texts, 20_000, offset=5_000)
            load = run_wrk(server.port, posts, concurrency, server.headers, seconds)
            spy.wait(timeout=seconds + 60)
            report = summarise(samples.read_text(errors="replace"))
        finally:
            server.stop()
    return {"server": server_name, "concurrency": concurrency, "load": load.summary(), **report}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="onnx", choices=[name for name in SERVERS if name != "naive"])
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    report = profile(args.server, args.seconds, args.concurrency)
    print(f"{args.server} at concurrency {args.concurrency}: {report['load']['throughput_rps']} req/s under wrk")
    for title in ("threads", "layers", "event_loop"):
        print(f"interpreter-lock samples by {title.replace('_', ' ')} (share of all {report['samples']}):")
        for name, share in report[title].items():
            print(f"  {share:>6.1%}  {name}")
    output = args.output or RESULTS / f"profile-{args.server}.json"
    output.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
