"""Two models on the same fixed labelled set: headline metrics side by side, the messages they decide differently,
and the promotion gate (a candidate may replace the active model only if it is not worse)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from deflect.core.records import OUT_OF_SCOPE, Utterance
from deflect.evaluation.report import LATENCY_SAMPLE, ModelEvaluation, evaluate_model
from deflect.intent.model import IntentModel, IntentPrediction
from deflect.retrieval.index import ArticleIndex

# The figures a candidate must not lose on: accuracy before and after out-of-scope rejection (after: a candidate
# rejecting more in-scope messages is caught even when its accuracy before rejection holds), in-scope macro-F1 (a
# rare intent breaking barely moves accuracy), and out-of-scope recall when the data has out-of-scope messages.
GATE_METRICS = (
    ("accuracy_before_rejection", "accuracy"),
    ("in_scope_accuracy", "accuracy after rejection"),
    ("macro_f1", "macro-F1"),
    ("out_of_scope_recall", "out-of-scope recall"),
)
ROUNDING = 1e-9  # float noise, not a tolerance


def decision(prediction: IntentPrediction) -> str:
    """What the model decided for a message: its intent, or out-of-scope when it rejected it."""
    return OUT_OF_SCOPE if prediction.out_of_scope else prediction.intent


@dataclass(frozen=True)
class AnswerPoint:
    """The bot answers a message the model keeps in scope with confidence at its answer threshold or above."""

    threshold: float
    coverage: float  # share of all messages the bot answers
    accuracy: float  # share of answered messages whose intent is right (nan when it answers none)


def answer_point(model: IntentModel, predictions: Sequence[IntentPrediction], gold: Sequence[str]) -> AnswerPoint:
    answered = [
        p.intent == g
        for p, g in zip(predictions, gold, strict=True)
        if not p.out_of_scope and p.confidence >= model.answer_threshold
    ]
    coverage = len(answered) / len(gold) if gold else 0.0
    return AnswerPoint(model.answer_threshold, coverage, sum(answered) / len(answered) if answered else math.nan)


@dataclass(frozen=True)
class Disagreement:
    text: str
    gold: str
    first: str  # the first model's decision
    second: str

    @property
    def first_right(self) -> bool:
        return self.first == self.gold

    @property
    def second_right(self) -> bool:
        return self.second == self.gold


@dataclass
class ModelComparison:
    first: ModelEvaluation
    second: ModelEvaluation
    first_answers: AnswerPoint
    second_answers: AnswerPoint
    disagreements: list[Disagreement]

    @property
    def second_better(self) -> list[Disagreement]:
        return [d for d in self.disagreements if d.second_right]

    @property
    def second_worse(self) -> list[Disagreement]:
        return [d for d in self.disagreements if d.first_right]

    @property
    def both_wrong(self) -> list[Disagreement]:
        return [d for d in self.disagreements if not (d.first_right or d.second_right)]


def compare_models(
    first: IntentModel,
    second: IntentModel,
    utterances: Sequence[Utterance],
    *,
    first_index: ArticleIndex | None = None,
    second_index: ArticleIndex | None = None,
    names: tuple[str, str] | None = None,
    latency_sample: int = LATENCY_SAMPLE,
) -> ModelComparison:
    """Evaluate both models on the same labelled messages (unlabelled ones are skipped); latency is measured one
    message at a time on up to `latency_sample` of them."""
    labelled = [u for u in utterances if u.label is not None]
    gold = [str(u.label) for u in labelled]
    first_name, second_name = names or (first.version, second.version)
    a = evaluate_model(first, labelled, first_index, name=first_name, latency_sample=latency_sample)
    b = evaluate_model(second, labelled, second_index, name=second_name, latency_sample=latency_sample)
    disagreements = [
        Disagreement(u.text, g, decision(p), decision(q))
        for u, g, p, q in zip(labelled, gold, a.predictions, b.predictions, strict=True)
        if decision(p) != decision(q)
    ]
    return ModelComparison(
        a, b, answer_point(first, a.predictions, gold), answer_point(second, b.predictions, gold), disagreements
    )


# ---- the side-by-side table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    first: float | None
    second: float | None
    higher_is_better: bool = True
    unit: str = "%"  # "%" (shares, deltas in points) or " ms"


def _has_out_of_scope(evaluation: ModelEvaluation) -> bool:
    return evaluation.metrics.get("out_of_scope_examples", 0) > 0


def comparison_rows(comparison: ModelComparison) -> list[Row]:
    a, b = comparison.first, comparison.second
    labels = {
        "accuracy_before_rejection": "accuracy (before rejection)",
        "in_scope_accuracy": "accuracy after rejection",
        "macro_f1": "macro-F1 (in scope)",
    }
    if _has_out_of_scope(a):
        labels |= {"out_of_scope_recall": "out-of-scope recall", "out_of_scope_precision": "out-of-scope precision"}
    rows = [Row(label, a.metrics.get(key), b.metrics.get(key)) for key, label in labels.items()]
    rows += [
        Row("ECE (in scope)", a.metrics.get("ece_in_scope"), b.metrics.get("ece_in_scope"), higher_is_better=False),
        Row("bot answers (coverage)", comparison.first_answers.coverage, comparison.second_answers.coverage),
        Row("right among bot answers", comparison.first_answers.accuracy, comparison.second_answers.accuracy),
    ]
    if a.retrieval and b.retrieval:
        rows += [Row(f"articles {k}", a.retrieval[k], b.retrieval[k]) for k in ("recall@1", "recall@3")]
    rows += [
        Row(f"latency {k} (one message)", a.latency_ms[k], b.latency_ms[k], higher_is_better=False, unit=" ms")
        for k in ("p50", "p95")
    ]
    return rows


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


def _cell(value: float | None, unit: str) -> str:
    if _missing(value):
        return "–"
    assert value is not None
    return f"{value:.2%}" if unit == "%" else f"{value:.1f}{unit}"


def _change(row: Row) -> str:
    if _missing(row.first) or _missing(row.second):
        return "–"
    assert row.first is not None and row.second is not None
    change = row.second - row.first
    text = f"{change * 100:+.2f} pt" if row.unit == "%" else f"{change:+.1f}{row.unit}"
    if abs(change) < ROUNDING or row.unit != "%":  # latency varies run to run: no verdict
        return text
    return text + ("  better" if (change > 0) == row.higher_is_better else "  worse")


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_comparison(comparison: ModelComparison, examples: int = 5) -> str:
    a, b = comparison.first, comparison.second
    width = max(28, *(len(row.label) for row in comparison_rows(comparison)))
    columns = max(12, len(a.name), len(b.name))
    lines = [
        f"A = {a.name} (model {a.version}), B = {b.name} (model {b.version}), on the same {a.examples} messages",
        f"{'':<{width}}  {'A':>{columns}}  {'B':>{columns}}  change (B − A)",
    ]
    for row in comparison_rows(comparison):
        lines.append(
            f"{row.label:<{width}}  {_cell(row.first, row.unit):>{columns}}  {_cell(row.second, row.unit):>{columns}}"
            f"  {_change(row)}"
        )
    total = len(comparison.disagreements)
    lines.append(
        f"A and B decide {total} of {a.examples} messages differently: B right where A was wrong "
        f"{len(comparison.second_better)}, A right where B was wrong {len(comparison.second_worse)}, both wrong "
        f"{len(comparison.both_wrong)}"
    )
    groups = {
        "B wrong where A was right": comparison.second_worse,
        "B right where A was wrong": comparison.second_better,
    }
    for title, group in groups.items():
        if group[:examples]:
            lines.append(f"  {title}:")
        for item in group[:examples]:
            lines.append(f"    {_short(item.text)!r}  (label {item.gold}): A {item.first} → B {item.second}")
    return "\n".join(lines)


# ---- the promotion gate ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateCheck:
    metric: str
    label: str
    active: float
    candidate: float
    passed: bool


@dataclass(frozen=True)
class GateResult:
    tolerance_points: float
    checks: list[GateCheck]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failures(self) -> list[GateCheck]:
        return [check for check in self.checks if not check.passed]


def promotion_gate(active: ModelEvaluation, candidate: ModelEvaluation, tolerance_points: float = 0.0) -> GateResult:
    """The candidate passes if, on every gate metric both evaluations have, it is at most `tolerance_points`
    percentage points below the active model."""
    checks = []
    for key, label in GATE_METRICS:
        before, after = active.metrics.get(key), candidate.metrics.get(key)
        if _missing(before) or _missing(after):
            continue
        assert before is not None and after is not None
        passed = after >= before - tolerance_points / 100 - ROUNDING
        checks.append(GateCheck(key, label, before, after, passed))
    return GateResult(tolerance_points, checks)


def format_gate(gate: GateResult) -> str:
    parts = [
        f"{check.label} {check.active:.2%} → {check.candidate:.2%}{'' if check.passed else ' (worse)'}"
        for check in gate.checks
    ]
    return "; ".join(parts)
