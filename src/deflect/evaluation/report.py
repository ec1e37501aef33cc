"""The evaluation report: one self-contained HTML page (plots embedded, and saved beside it as PNG) for one model, or
two side by side with deltas — what an ML engineer reads before shipping a retrained model.

Per model: overall and per-locale metrics, calibration (ECE, reliability diagram), per-intent precision / recall /
F1, the top confusions, the coverage curve (share of messages the bot answers against the wrong-answer rate among
them, the model's answer threshold marked), article Recall@k when an index is given, and single-message latency.
"""

from __future__ import annotations

import base64
import html
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deflect.core.records import OUT_OF_SCOPE, Utterance
from deflect.evaluation.evaluator import LatencyEvaluator
from deflect.evaluation.intents import IntentEvaluator
from deflect.evaluation.retrieval import RetrievalEvaluator, RetrievalQuery
from deflect.intent.model import IntentModel, IntentPrediction
from deflect.retrieval.index import ArticleIndex

CONFUSIONS = 15
LATENCY_SAMPLE = 200


@dataclass
class CoverageCurve:
    thresholds: np.ndarray
    coverage: np.ndarray  # share of all messages answered
    wrong_rate: np.ndarray  # share of answered messages whose intent is wrong (out-of-scope ones included)
    chosen: float  # the model's answer threshold


@dataclass
class ModelEvaluation:
    name: str
    version: str
    examples: int
    metrics: dict[str, float]
    per_locale: dict[str, dict[str, float]]
    per_intent: dict[str, dict[str, float]]  # intent → precision, recall, f1, support
    confusions: list[tuple[str, str, int]]
    confidences: np.ndarray = field(repr=False)
    correct: np.ndarray = field(repr=False)
    coverage: CoverageCurve = field(repr=False)
    retrieval: dict[str, float] | None
    latency_ms: dict[str, float]
    predictions: list[IntentPrediction] = field(default_factory=list, repr=False)  # per labelled message, in order


def coverage_curve(
    confidences: np.ndarray, rejected: np.ndarray, right: np.ndarray, chosen: float, points: int = 101
) -> CoverageCurve:
    """The bot answers a message when the model keeps it in scope and its confidence reaches the threshold."""
    thresholds = np.linspace(0.0, 1.0, points)
    coverage, wrong_rate = [], []
    for threshold in thresholds:
        answered = ~rejected & (confidences >= threshold)
        coverage.append(answered.mean() if len(answered) else 0.0)
        wrong_rate.append(float((~right[answered]).mean()) if answered.any() else 0.0)
    return CoverageCurve(thresholds, np.array(coverage), np.array(wrong_rate), chosen)


def _relevant_articles(index: ArticleIndex, intent: str, locale: str) -> frozenset[str]:
    linked = [a for a in index.articles.values() if intent in a.intents]
    in_locale = frozenset(a.id for a in linked if a.locale == locale)
    return in_locale or frozenset(a.id for a in linked)


def _per_intent(gold: list[str], decided: list[str]) -> dict[str, dict[str, float]]:
    from sklearn.metrics import precision_recall_fscore_support

    labels = sorted(set(gold) | set(decided))
    precision, recall, f1, support = precision_recall_fscore_support(gold, decided, labels=labels, zero_division=0)
    return {
        label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    }


def evaluate_model(
    model: IntentModel,
    utterances: Sequence[Utterance],
    index: ArticleIndex | None = None,
    name: str | None = None,
    latency_sample: int = LATENCY_SAMPLE,
) -> ModelEvaluation:
    """The report's figures for one model: the intent evaluator's metrics (overall and per locale), and on the same
    predictions per-intent scores, confusions and the coverage curve; article retrieval and latency evaluators."""
    intents = IntentEvaluator(list(utterances), name=name or model.version)
    labelled = intents.utterances
    texts = [u.text for u in labelled]
    gold = [str(u.label) for u in labelled]
    predictions = model.predict(texts, show_progress=True)
    report = intents.report(model, predictions)
    predicted = [p.intent for p in predictions]
    rejected = np.array([p.out_of_scope for p in predictions])
    decided = [OUT_OF_SCOPE if r else p for p, r in zip(predicted, rejected, strict=True)]
    confidences = np.array([p.confidence for p in predictions])
    right = np.array([p == g for p, g in zip(predicted, gold, strict=True)])
    in_scope = np.array([g != OUT_OF_SCOPE for g in gold])
    confusions = Counter((g, d) for g, d in zip(gold, decided, strict=True) if g != d)

    retrieval = None
    if index is not None:
        queries = [
            RetrievalQuery(u.text, _relevant_articles(index, str(u.label), loc), loc)
            for u, loc in zip(labelled, intents.locales, strict=True)
            if u.label != OUT_OF_SCOPE
        ]
        evaluator = RetrievalEvaluator(queries, k_values=(1, 3, 5))
        if evaluator.queries:
            retrieval = evaluator(model, index)

    step = max(1, len(texts) // latency_sample)
    latency = LatencyEvaluator(texts[::step][:latency_sample])(model, index)
    return ModelEvaluation(
        name=name or model.version,
        version=model.version,
        examples=len(labelled),
        metrics={k: v for k, v in report.items() if isinstance(v, float | int) and not isinstance(v, bool)},
        per_locale=report["per_locale"],
        per_intent=_per_intent(gold, decided),
        confusions=[(g, d, n) for (g, d), n in confusions.most_common(CONFUSIONS)],
        confidences=confidences[in_scope],
        correct=right[in_scope],
        coverage=coverage_curve(confidences, rejected, right & in_scope, model.answer_threshold),
        retrieval=retrieval,
        latency_ms={key.removesuffix("_ms"): value for key, value in latency.items()},
        predictions=predictions,
    )


# ---- plots ----------------------------------------------------------------------------------------------------


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    _pyplot().close(figure)
    return path


def reliability_diagram(evaluation: ModelEvaluation, path: Path) -> Path:
    plt = _pyplot()
    confidences, correct = evaluation.confidences, evaluation.correct.astype(float)
    edges = np.linspace(0, 1, 16)
    bins = np.clip(np.digitize(confidences, edges[1:-1], right=True), 0, 14)
    present = [i for i in range(15) if (bins == i).any()]
    figure, axis = plt.subplots(figsize=(4.2, 4))
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    axis.bar(
        [(edges[i] + edges[i + 1]) / 2 for i in present],
        [correct[bins == i].mean() for i in present],
        width=1 / 15,
        edgecolor="black",
        alpha=0.7,
        label="accuracy per confidence bin",
    )
    axis.set(xlabel="confidence", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1))
    axis.set_title(f"{evaluation.name}\nECE {evaluation.metrics['ece_in_scope']:.2%}", fontsize=9)
    axis.legend(loc="upper left", fontsize=7)
    return _save(figure, path)


def coverage_plot(evaluations: Sequence[ModelEvaluation], path: Path) -> Path:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(5.5, 4))
    for evaluation in evaluations:
        curve = evaluation.coverage
        (line,) = axis.plot(curve.wrong_rate, curve.coverage, label=evaluation.name)
        chosen = int(np.argmin(np.abs(curve.thresholds - curve.chosen)))
        axis.scatter(
            [curve.wrong_rate[chosen]],
            [curve.coverage[chosen]],
            color=line.get_color(),
            zorder=3,
            label=f"answer threshold {curve.chosen:.2f}",
        )
    axis.set(xlabel="wrong answers among answered messages", ylabel="messages the bot answers")
    axis.set_title("Coverage against wrong-answer rate", fontsize=9)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)
    return _save(figure, path)


# ---- HTML -----------------------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
.better { color: #137333; } .worse { color: #b3261e; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; }
.scroll { max-height: 420px; overflow-y: auto; display: inline-block; }
"""

HEADLINE = [
    ("accuracy_before_rejection", "accuracy (before rejection)", True),
    ("in_scope_accuracy", "in-scope accuracy (rejections count as wrong)", True),
    ("macro_f1", "macro-F1 (in scope)", True),
    ("out_of_scope_recall", "out-of-scope recall", True),
    ("out_of_scope_precision", "out-of-scope precision", True),
    ("ece_in_scope", "expected calibration error (in scope)", False),
]


def _percent(value: float | None) -> str:
    return "–" if value is None or np.isnan(value) else f"{value:.2%}"


def _delta(
    new: float | None, old: float | None, higher_is_better: bool = True, percent: bool = True, unit: str = ""
) -> str:
    if new is None or old is None or np.isnan(new) or np.isnan(old):
        return "<td>–</td>"
    change = new - old
    good = (change > 0) == higher_is_better
    css = "" if abs(change) < 1e-12 else ("better" if good else "worse")
    text = f"{change * 100:+.2f} pt" if percent else f"{change:+.2f}{unit}"
    return f'<td class="{css}">{text}</td>'


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], scroll: bool = False) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(cell if cell.startswith("<td") else f"<td>{cell}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    table = f"<table><tr>{head}</tr>{body}</table>"
    return f'<div class="scroll">{table}</div>' if scroll else table


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _metrics_section(evaluations: Sequence[ModelEvaluation]) -> str:
    names = [html.escape(e.name) for e in evaluations]
    header = ["metric", *names, *(["change"] if len(evaluations) == 2 else [])]
    rows = []
    for key, label, higher in HEADLINE:
        values = [e.metrics.get(key) for e in evaluations]
        row = [html.escape(label), *(_percent(v) for v in values)]
        if len(evaluations) == 2:
            row.append(_delta(values[1], values[0], higher))
        rows.append(row)
    locales = sorted({locale for e in evaluations for locale in e.per_locale})
    for locale in locales:
        values = [e.per_locale.get(locale, {}).get("in_scope_accuracy") for e in evaluations]
        row = [f"in-scope accuracy, {locale}", *(_percent(v) for v in values)]
        if len(evaluations) == 2:
            row.append(_delta(values[1], values[0]))
        rows.append(row)
    if all(e.retrieval for e in evaluations):
        for key in ("recall@1", "recall@3", "recall@5", "mrr@10"):
            values = [e.retrieval[key] if e.retrieval else None for e in evaluations]
            row = [f"articles {key}", *(_percent(v) if "recall" in key else f"{v:.3f}" for v in values)]
            if len(evaluations) == 2:
                row.append(_delta(values[1], values[0], percent="recall" in key))
            rows.append(row)
    for key in ("p50", "p95", "p99"):
        values = [e.latency_ms[key] for e in evaluations]
        row = [f"latency {key} (one message)", *(f"{v:.1f} ms" for v in values)]
        if len(evaluations) == 2:
            row.append(_delta(values[1], values[0], higher_is_better=False, percent=False, unit=" ms"))
        rows.append(row)
    return _table(header, rows)


def _per_intent_section(evaluations: Sequence[ModelEvaluation]) -> str:
    intents = sorted({intent for e in evaluations for intent in e.per_intent})
    if len(evaluations) == 1:
        evaluation = evaluations[0]
        rows = [
            [
                html.escape(intent),
                f"{m['precision']:.2f}",
                f"{m['recall']:.2f}",
                f"{m['f1']:.2f}",
                str(m["support"]),
            ]
            for intent, m in sorted(evaluation.per_intent.items(), key=lambda item: item[1]["f1"])
        ]
        return _table(["intent (worst F1 first)", "precision", "recall", "F1", "support"], rows, scroll=True)
    old, new = evaluations
    empty = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    changes = sorted(
        intents,
        key=lambda i: -abs(new.per_intent.get(i, empty)["f1"] - old.per_intent.get(i, empty)["f1"]),
    )
    rows = []
    for intent in changes:
        a, b = old.per_intent.get(intent, empty), new.per_intent.get(intent, empty)
        rows.append(
            [
                html.escape(intent),
                f"{a['f1']:.2f}",
                f"{b['f1']:.2f}",
                _delta(b["f1"], a["f1"], percent=False),
                f"{a['recall']:.2f} → {b['recall']:.2f}",
                f"{a['precision']:.2f} → {b['precision']:.2f}",
                str(b["support"]),
            ]
        )
    header = [
        "intent (largest F1 change first)",
        f"F1 {old.name}",
        f"F1 {new.name}",
        "change",
        "recall",
        "precision",
        "support",
    ]
    return _table(header, rows, scroll=True)


def _confusions_section(evaluations: Sequence[ModelEvaluation]) -> str:
    parts = []
    for evaluation in evaluations:
        rows = [[html.escape(g), html.escape(d), str(n)] for g, d, n in evaluation.confusions]
        parts.append(
            f"<div><h3>{html.escape(evaluation.name)}</h3>"
            + _table(["true intent", "decided as", "messages"], rows or [["–", "–", "0"]])
            + "</div>"
        )
    return '<div class="plots">' + "".join(parts) + "</div>"


def write_report(evaluations: Sequence[ModelEvaluation], out_dir: str | Path, data_name: str) -> Path:
    """`out_dir/report.html` plus its plots as PNG files; returns the HTML path."""
    if not 1 <= len(evaluations) <= 2:
        raise ValueError("a report compares one or two models")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    reliability = [reliability_diagram(e, out / f"reliability_{i + 1}.png") for i, e in enumerate(evaluations)]
    coverage = coverage_plot(evaluations, out / "coverage.png")
    title = " vs ".join(e.name for e in evaluations)
    models = "".join(
        f"<li><b>{html.escape(e.name)}</b>: model version {html.escape(e.version)}, {e.examples} messages; answer "
        f"threshold {e.coverage.chosen:.2f}</li>"
        for e in evaluations
    )
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Deflect evaluation: {html.escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>Deflect evaluation report</h1>
<p>Data: {html.escape(data_name)}. Created {time.strftime("%Y-%m-%d %H:%M")}.</p><ul>{models}</ul>
<h2>Metrics</h2>{_metrics_section(evaluations)}
<h2>Answer coverage</h2>
<p>The bot answers a message when the model keeps it in scope and its calibrated confidence reaches the threshold;
moving the threshold trades answered messages against wrong answers. The dot is the threshold the model ships with.</p>
{_image(coverage, "coverage curve")}
<h2>Calibration</h2><div class="plots">{"".join(_image(p, "reliability diagram") for p in reliability)}</div>
<h2>Per intent</h2>{_per_intent_section(evaluations)}
<h2>Top confusions</h2>{_confusions_section(evaluations)}
</body></html>
"""
    path = out / "report.html"
    path.write_text(document, encoding="utf-8")
    return path
