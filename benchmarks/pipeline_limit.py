"""The in-process limit the servers are measured against: Deflect's pipeline called as a library — normalise,
encode, classify, search, redact and store each batch's suggestions in one transaction of a SQLite event database,
as the server's group commit does — on the load benchmark's messages, in batches of 1, 8 and 32 as the server's
micro-batcher forms them, with the numeric libraries on one thread per call as while serving. No HTTP, no event
loop, no threads handing work over: what the model costs.

    .venv/bin/python -m benchmarks.pipeline_limit [--runtime onnx] [--messages 400]

The load benchmark runs it first (`make load-benchmark`) and reports each server row as a share of it."""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.paths import ROOT
from deflect.api.app import one_thread_per_numeric_call
from deflect.conversation.pii import redact
from deflect.conversation.suggester import Analysis, Suggester
from deflect.core.demo import DEMO_TEST
from deflect.core.settings import Settings
from deflect.ingest.utterances import load_utterances
from deflect.store.events import EventStore, SuggestionRecord, add_suggestion

BATCH_SIZES = (1, 8, 32)


@dataclass(frozen=True)
class LimitRow:
    batch_size: int
    messages: int
    seconds: float
    per_message_ms: list[float]  # each message's share of its batch's time (at batch size 1: its own time)

    def summary(self) -> dict[str, Any]:
        per_message = np.array(self.per_message_ms)
        return {
            "batch_size": self.batch_size,
            "messages": self.messages,
            "seconds": round(self.seconds, 3),
            "messages_per_second": round(self.messages / self.seconds, 1),
            "p50_ms": round(float(np.percentile(per_message, 50)), 2),
            "mean_ms": round(float(per_message.mean()), 2),
        }


def _record(analysis: Analysis, conversation_id: str, suggester: Suggester) -> SuggestionRecord:
    prediction = analysis.prediction
    return SuggestionRecord(
        id=f"s-{secrets.token_hex(8)}",
        conversation_id=conversation_id,
        customer_id=None,
        text=redact(analysis.text),
        locale=analysis.locale,
        intent=prediction.intent,
        confidence=prediction.confidence,
        out_of_scope=prediction.out_of_scope,
        alternatives=prediction.top_intents,
        articles=[hit.article.id for hit in analysis.hits],
        decision="suggest_articles",
        reason_code="benchmark",
        reason="in-process pipeline",
        frustration_score=0.0,
        model_version=suggester.model.version,
        index_version=suggester.index.version,
    )


def measure(suggester: Suggester, store: EventStore, texts: Sequence[str], batch_size: int) -> LimitRow:
    per_message: list[float] = []
    started = time.perf_counter()
    for first in range(0, len(texts), batch_size):
        batch = list(texts[first : first + batch_size])
        batch_started = time.perf_counter()
        analyses = suggester.analyse_batch(batch)
        with store.session() as session:  # one transaction per batch, as the server's group commit stores them
            for offset, analysis in enumerate(analyses):
                add_suggestion(session, _record(analysis, f"limit-{(first + offset) // 5}", suggester))
        per_message += [(time.perf_counter() - batch_started) * 1000 / len(batch)] * len(batch)
    return LimitRow(batch_size, len(texts), time.perf_counter() - started, per_message)


def pipeline_limit(
    model: Path, index: Path, texts: Sequence[str], runtime: str = "onnx", batch_sizes: Sequence[int] = BATCH_SIZES
) -> list[dict[str, Any]]:
    """Messages per second of the in-process pipeline at each batch size (after a warm-up)."""
    with tempfile.TemporaryDirectory(prefix="deflect-limit-") as work:
        database = f"sqlite:///{Path(work) / 'events.db'}"
        settings = Settings(model_dir=model, index_dir=index, encoder_runtime=runtime, database_url=database)
        suggester = Suggester.load(settings)
        store = EventStore.open(database)
        try:
            with one_thread_per_numeric_call():
                measure(suggester, store, texts[-40:], 8)  # warm-up: first calls allocate
                return [measure(suggester, store, texts, size).summary() for size in batch_sizes]
        finally:
            store.close()
            suggester.close()


def limit_for(limits: Sequence[dict[str, Any]], concurrency: int) -> dict[str, Any]:
    """The limit a server at `concurrency` is compared with: the largest batch it could form (≤ concurrency)."""
    fitting = [row for row in limits if row["batch_size"] <= concurrency]
    return max(fitting, key=lambda row: row["batch_size"]) if fitting else limits[0]


def format_limits(limits: Sequence[dict[str, Any]]) -> str:
    lines = [f"{'batch':>6}{'messages':>10}{'msg/s':>9}{'p50 ms/msg':>12}{'mean ms/msg':>13}"]
    for row in limits:
        lines.append(
            f"{row['batch_size']:>6}{row['messages']:>10}{row['messages_per_second']:>9.1f}"
            f"{row['p50_ms']:>12.2f}{row['mean_ms']:>13.2f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "demo")
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "demo")
    parser.add_argument("--runtime", default="onnx", choices=["onnx", "native", "auto"])
    parser.add_argument("--messages", type=int, default=400)
    args = parser.parse_args(argv)
    texts = list(dict.fromkeys(u.text for u in load_utterances(DEMO_TEST)))[: args.messages]
    print(format_limits(pipeline_limit(args.model, args.index, texts, args.runtime)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
