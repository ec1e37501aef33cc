"""Frustration benchmark: precision, recall and F1 of the regex frustration detector on the held-out test set
(data/benchmarks/frustration/messages.csv) and on the development set the weights and threshold were chosen on
(dev.csv), per language and overall.

    .venv/bin/python -m benchmarks.frustration_benchmark [--threshold 0.35]

Prints a table and writes benchmarks/results/frustration.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.paths import BENCHMARK_DATA, RESULTS, ROOT
from deflect.conversation.signals import DEFAULT_THRESHOLD, FrustrationDetector

FRUSTRATION = BENCHMARK_DATA / "frustration"
SPLITS = {"test": FRUSTRATION / "messages.csv", "dev": FRUSTRATION / "dev.csv"}
LABELS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


@dataclass(frozen=True)
class LabelledMessage:
    text: str
    locale: str
    frustrated: bool


def read_messages(path: Path) -> list[LabelledMessage]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            LabelledMessage(row["text"], row["locale"], LABELS[row["frustrated"].strip().lower()])
            for row in csv.DictReader(handle)
        ]


def score(predicted: list[bool], actual: list[bool]) -> dict[str, float | int]:
    true_positives = sum(p and a for p, a in zip(predicted, actual, strict=True))
    flagged, frustrated = sum(predicted), sum(actual)
    precision = true_positives / flagged if flagged else 0.0
    recall = true_positives / frustrated if frustrated else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "messages": len(actual),
        "frustrated": frustrated,
        "flagged": flagged,
    }


def evaluate(detector: FrustrationDetector, messages: list[LabelledMessage]) -> dict[str, dict[str, float | int]]:
    """Metrics per locale and overall ("all")."""
    predicted = [detector.detect(m.text, m.locale).frustrated for m in messages]
    groups = {locale: [i for i, m in enumerate(messages) if m.locale == locale] for locale in ("ko", "en")}
    groups["all"] = list(range(len(messages)))
    return {
        name: score([predicted[i] for i in indices], [messages[i].frustrated for i in indices])
        for name, indices in groups.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--output", type=Path, default=RESULTS / "frustration.json")
    args = parser.parse_args()

    detector = FrustrationDetector(args.threshold)
    report: dict[str, Any] = {"threshold": args.threshold}
    print(f"{'split':<8}{'locale':<8}{'precision':>11}{'recall':>9}{'F1':>8}{'n':>6}")
    for split, path in SPLITS.items():
        messages = read_messages(path)
        started = time.perf_counter()
        metrics = evaluate(detector, messages)
        milliseconds = (time.perf_counter() - started) * 1000 / len(messages)
        for locale, m in metrics.items():
            print(f"{split:<8}{locale:<8}{m['precision']:>11.1%}{m['recall']:>9.1%}{m['f1']:>8.3f}{m['messages']:>6}")
        report[split] = {"file": str(path.relative_to(ROOT)), "ms_per_message": round(milliseconds, 4), **metrics}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
