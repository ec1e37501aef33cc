"""Details benchmark: the details extractor on the customer turns of the conversation set
(data/benchmarks/conversations/{ko,en}.jsonl), whose turns list the details they hold as written.

Per kind, and for order and tracking numbers together: precision, recall and the tp/fp/fn counts, matched per turn
on (kind, text as written) for identifier kinds and on the kind alone for PII kinds (a phone number is only ever
reported as given); and the time `extract()` takes per message (mean and p99, in µs).

    .venv/bin/python -m benchmarks.details_benchmark [--split validation|test] [--config FILE] [--show-errors]

Prints a table and writes the split's figures, with every false positive and negative, into
benchmarks/results/details.json (the other split's figures in that file are kept). `--config` scores another
details file (a variant of the rules) instead of the demo store's. Tune on validation only: test is measured once.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.paths import CONVERSATIONS, RESULTS, ROOT
from deflect.conversation.details import Detail, DetailsExtractor
from deflect.conversation.details.patterns import PII_KINDS
from deflect.core.demo import DEMO_DETAILS, DEMO_LABELS
from deflect.ingest.conversations import evaluation_set

SPLITS = ("validation", "test")
IDENTIFIERS = ("order_number", "tracking_number")
TOGETHER = "order+tracking"
TIMING_PASSES = 5

# What a detail is matched on: its kind and, unless it is a PII kind, the characters as written.
Key = tuple[str, str | None]


@dataclass(frozen=True)
class Turn:
    conversation: str
    index: int
    text: str
    gold: tuple[Key, ...]


def load_turns(split: str) -> list[Turn]:
    intents = frozenset(json.loads(DEMO_LABELS.read_text(encoding="utf-8")))
    conversations, _ = evaluation_set(CONVERSATIONS, intents, split=split)
    return [
        Turn(conversation.id, index, turn.text, tuple(_key(d.kind, d.value) for d in turn.details))
        for conversation in conversations
        for index, turn in enumerate(conversation.turns)
    ]


def _key(kind: str, text: str | None) -> Key:
    return (kind, None if kind in PII_KINDS else text)


def predicted_keys(details: list[Detail]) -> tuple[Key, ...]:
    return tuple(_key(d.kind, d.text) for d in details)


def evaluate(extractor: DetailsExtractor, turns: list[Turn]) -> dict[str, Any]:
    counts: dict[str, Counter[str]] = {}
    errors: list[dict[str, Any]] = []
    for turn in turns:
        gold, predicted = Counter(turn.gold), Counter(predicted_keys(extractor.extract(turn.text)))
        for outcome, keys in (("tp", gold & predicted), ("fp", predicted - gold), ("fn", gold - predicted)):
            for (kind, text), n in keys.items():
                counts.setdefault(kind, Counter())[outcome] += n
                if outcome != "tp":
                    errors += [{"error": outcome, "id": turn.conversation, "turn": turn.index, "kind": kind,
                                "text": text, "message": turn.text}] * n  # fmt: skip
    per_kind = {kind: _scores(counts[kind]) for kind in sorted(counts, key=_kind_order)}
    together = sum((counts.get(kind, Counter()) for kind in IDENTIFIERS), Counter())
    return {
        "turns": len(turns),
        "per_kind": {**per_kind, TOGETHER: _scores(together)},
        "us_per_message": _timing(extractor, [turn.text for turn in turns]),
        "errors": errors,
    }


def _kind_order(kind: str) -> tuple[bool, str]:
    return (kind in PII_KINDS, kind)


def _scores(counts: Counter[str]) -> dict[str, Any]:
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
    }


def _timing(extractor: DetailsExtractor, texts: list[str]) -> dict[str, float]:
    for text in texts:  # warm the regex caches before measuring
        extractor.extract(text)
    samples = []
    for _ in range(TIMING_PASSES):
        for text in texts:
            started = time.perf_counter_ns()
            extractor.extract(text)
            samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    return {
        "mean": round(statistics.fmean(samples), 1),
        "p99": round(samples[min(len(samples) - 1, int(0.99 * len(samples)))], 1),
    }


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def format_report(name: str, report: dict[str, Any], show_errors: bool) -> str:
    timing = report["us_per_message"]
    lines = [
        f"{name}: {report['turns']} customer turns, extract() {timing['mean']:.0f} µs per message "
        f"(p99 {timing['p99']:.0f} µs)",
        f"{'kind':<18}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>9}",
    ]
    for kind, scores in report["per_kind"].items():
        lines.append(
            f"{kind:<18}{scores['tp']:>5}{scores['fp']:>5}{scores['fn']:>5}"
            f"{_percent(scores['precision']):>11}{_percent(scores['recall']):>9}"
        )
    if show_errors:
        lines += [
            f"  {'false positive' if e['error'] == 'fp' else 'false negative'}: {e['id']} turn {e['turn']} "
            f"{e['kind']} {e['text']!r} in {e['message']!r}"
            for e in report["errors"]
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="validation", choices=SPLITS)
    parser.add_argument("--config", type=Path, default=DEMO_DETAILS, help="the details file to score")
    parser.add_argument("--output", type=Path, default=RESULTS / "details.json")
    parser.add_argument("--show-errors", action="store_true", help="print every false positive and negative")
    args = parser.parse_args()

    extractor = DetailsExtractor.from_file(args.config)
    config = args.config.resolve()
    shown = config.relative_to(ROOT) if config.is_relative_to(ROOT) else config
    report = {"config": str(shown), **evaluate(extractor, load_turns(args.split))}
    print(format_report(f"{args.split} ({args.config.name})", report, args.show_errors), flush=True)
    results = json.loads(args.output.read_text(encoding="utf-8")) if args.output.exists() else {}
    results[args.split] = report
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
