"""PII redaction benchmark: span-level precision and recall of the redactor, overall, per language and per label, with
exact matching (same start, end and label) and overlap matching (same label, overlapping characters), on the dev set
and the held-out test set in data/benchmarks/pii; recall per form of writing a value (full-width digits, mixed
separators, a card after "order", …) and the false positives in each kind of hard-negative message.

    .venv/bin/python -m benchmarks.pii_benchmark [--sets dev test] [--finder FILE] [--output JSON]

Prints a table and writes benchmarks/results/pii.json (figures, every miss and false positive, time per message).
`--finder` scores the `find_pii` of another Python file instead (an older redactor, for before/after figures).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.paths import BENCHMARK_DATA, RESULTS
from deflect.conversation.pii import PiiLabel, PiiSpan, find_pii

PII_BENCHMARK = BENCHMARK_DATA / "pii"
SETS = {"dev": PII_BENCHMARK / "dev.jsonl", "test": PII_BENCHMARK / "messages.jsonl"}
LOCALES = ("ko", "en")


# A labelled span without a form is written the way the set's first version covered ("010-1234-5678", "주민번호 …").
PLAIN_FORM = "plain"


@dataclass(frozen=True)
class GoldSpan:
    start: int
    end: int
    label: PiiLabel
    form: str = PLAIN_FORM


@dataclass(frozen=True)
class Message:
    id: str
    locale: str
    text: str
    spans: tuple[GoldSpan, ...]
    form: str | None = None  # the kind of hard negative a message without PII is, if it is one


@dataclass(frozen=True)
class Span:
    message: Message
    start: int
    end: int
    label: PiiLabel

    @property
    def value(self) -> str:
        return self.message.text[self.start : self.end]

    def overlaps(self, other: Span) -> bool:
        return self.label == other.label and self.start < other.end and other.start < self.end


def load_messages(path: Path) -> list[Message]:
    messages = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                spans = tuple(
                    GoldSpan(s["start"], s["end"], PiiLabel(s["label"]), s.get("form", PLAIN_FORM))
                    for s in row["spans"]
                )
                messages.append(Message(row["id"], row["locale"], row["text"], spans, row.get("form")))
    return messages


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def span_scores(gold: list[Span], predicted: list[Span]) -> dict[str, Any]:
    """Exact and overlap precision/recall; precision is None without predictions, recall None without gold."""
    gold_keys = {(s.message.id, s.start, s.end, s.label) for s in gold}
    exact = sum((s.message.id, s.start, s.end, s.label) in gold_keys for s in predicted)
    gold_by_message: dict[str, list[Span]] = defaultdict(list)
    predicted_by_message: dict[str, list[Span]] = defaultdict(list)
    for span in gold:
        gold_by_message[span.message.id].append(span)
    for span in predicted:
        predicted_by_message[span.message.id].append(span)
    found = sum(any(g.overlaps(p) for p in predicted_by_message[g.message.id]) for g in gold)
    correct = sum(any(p.overlaps(g) for g in gold_by_message[p.message.id]) for p in predicted)
    return {
        "gold": len(gold),
        "predicted": len(predicted),
        "exact_precision": _ratio(exact, len(predicted)),
        "exact_recall": _ratio(exact, len(gold)),
        "overlap_precision": _ratio(correct, len(predicted)),
        "overlap_recall": _ratio(found, len(gold)),
    }


def evaluate_messages(messages: list[Message], finder: Callable[[str], list[PiiSpan]] = find_pii) -> dict[str, Any]:
    """Scores overall, per locale, per label and per locale and label, recall per form, false positives per kind of
    hard negative, plus the exact-match errors."""
    gold: list[Span] = []
    predicted: list[Span] = []
    started = time.perf_counter()
    for message in messages:
        predicted += [Span(message, s.start, s.end, s.label) for s in finder(message.text)]
    seconds = time.perf_counter() - started
    for message in messages:
        gold += [Span(message, s.start, s.end, s.label) for s in message.spans]

    def subset(spans: list[Span], locale: str | None = None, label: PiiLabel | None = None) -> list[Span]:
        return [s for s in spans if locale in (None, s.message.locale) and label in (None, s.label)]

    gold_keys = {(s.message.id, s.start, s.end, s.label) for s in gold}
    predicted_keys = {(s.message.id, s.start, s.end, s.label) for s in predicted}
    form_of = {(m.id, s.start, s.end, s.label): s.form for m in messages for s in m.spans}
    forms = sorted(set(form_of.values()), key=lambda form: (form != PLAIN_FORM, form))
    negative_forms = sorted({m.form for m in messages if m.form})
    return {
        "messages": len(messages),
        "ms_per_message": round(1000 * seconds / max(1, len(messages)), 4),
        "all": span_scores(gold, predicted),
        "per_locale": {locale: span_scores(subset(gold, locale), subset(predicted, locale)) for locale in LOCALES},
        "per_label": {
            label: span_scores(subset(gold, None, label), subset(predicted, None, label)) for label in PiiLabel
        },
        "per_locale_label": {
            f"{locale}/{label}": span_scores(subset(gold, locale, label), subset(predicted, locale, label))
            for locale in LOCALES
            for label in PiiLabel
        },
        "per_form": {
            form: _recall([s for s in gold if form_of[(s.message.id, s.start, s.end, s.label)] == form], predicted)
            for form in forms
        },
        "per_negative_form": {
            form: {
                "messages": sum(m.form == form for m in messages),
                "false_positives": sum(s.message.form == form for s in predicted),
            }
            for form in negative_forms
        },
        "misses": _errors(s for s in gold if (s.message.id, s.start, s.end, s.label) not in predicted_keys),
        "false_positives": _errors(s for s in predicted if (s.message.id, s.start, s.end, s.label) not in gold_keys),
    }


def _recall(gold: list[Span], predicted: list[Span]) -> dict[str, Any]:
    """Recall only: a predicted span has no form, so precision per form is undefined."""
    scores = span_scores(gold, [p for p in predicted if p.message.id in {g.message.id for g in gold}])
    return {key: scores[key] for key in ("gold", "exact_recall", "overlap_recall")}


def _errors(spans: Iterable[Span]) -> list[dict[str, Any]]:
    return [{"id": s.message.id, "label": s.label, "value": s.value, "start": s.start, "end": s.end} for s in spans]


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def format_report(name: str, report: dict[str, Any]) -> str:
    lines = [
        f"{name}: {report['messages']} messages, {report['ms_per_message']:.3f} ms per message",
        f"{'slice':<10}{'gold':>6}{'pred':>6}{'exact P':>10}{'exact R':>10}{'overlap P':>11}{'overlap R':>11}",
    ]
    rows = [("all", report["all"])]
    rows += [(locale, scores) for locale, scores in report["per_locale"].items()]
    rows += [(label, scores) for label, scores in report["per_label"].items()]
    for slice_name, scores in rows:
        lines.append(
            f"{slice_name:<10}{scores['gold']:>6}{scores['predicted']:>6}"
            f"{_percent(scores['exact_precision']):>10}{_percent(scores['exact_recall']):>10}"
            f"{_percent(scores['overlap_precision']):>11}{_percent(scores['overlap_recall']):>11}"
        )
    lines.append(f"{'form':<24}{'gold':>6}{'exact R':>10}{'overlap R':>11}")
    for form, scores in report["per_form"].items():
        lines.append(
            f"{form:<24}{scores['gold']:>6}{_percent(scores['exact_recall']):>10}{_percent(scores['overlap_recall']):>11}"
        )
    lines.append(f"{'hard negatives':<24}{'msgs':>6}{'false pos':>10}")
    for form, counts in report["per_negative_form"].items():
        lines.append(f"{form:<24}{counts['messages']:>6}{counts['false_positives']:>10}")
    for kind, title in (("misses", "miss"), ("false_positives", "false positive")):
        lines += [f"  {title}: {e['id']} {e['label']} {e['value']!r}" for e in report[kind]]
    return "\n".join(lines)


def _load_finder(path: Path) -> Callable[[str], list[PiiSpan]]:
    spec = importlib.util.spec_from_file_location(f"pii_finder_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    finder: Callable[[str], list[PiiSpan]] = module.find_pii
    return finder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=["dev", "test"])
    parser.add_argument("--output", type=Path, default=RESULTS / "pii.json")
    parser.add_argument("--finder", type=Path, help="a Python file whose find_pii(text) to score instead")
    args = parser.parse_args()

    finder = _load_finder(args.finder) if args.finder else find_pii
    results = {}
    for name in args.sets:
        results[name] = evaluate_messages(load_messages(SETS[name]), finder)
        print(format_report(f"{name} ({SETS[name].name})", results[name]), end="\n\n", flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
