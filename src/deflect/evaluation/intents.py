"""Intent evaluation on labelled data: accuracy with out-of-scope rejection and calibration, overall and per locale.
In scope means labelled with anything but `out_of_scope` (CLINC150's protocol), here and in every figure built on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from deflect.core.records import OUT_OF_SCOPE, Utterance
from deflect.core.text import detect_locale
from deflect.ingest.utterances import load_utterances
from deflect.intent.calibration import expected_calibration_error
from deflect.intent.metrics import in_scope_macro_f1, intent_metrics
from deflect.intent.model import IntentModel, IntentPrediction
from deflect.retrieval.index import ArticleIndex


class IntentEvaluator:
    """Called with a model, returns a dict of named metrics: overall, and per locale when locales are known."""

    def __init__(self, utterances: list[Utterance], name: str = ""):
        self.utterances = [u for u in utterances if u.label is not None]
        self.name = name

    def __call__(self, model: IntentModel | None, index: ArticleIndex | None = None) -> dict[str, Any]:
        if model is None:
            raise ValueError("intents are evaluated on an intent model")
        return self.report(model, model.predict([u.text for u in self.utterances], show_progress=True))

    @property
    def locales(self) -> list[str]:
        return [u.locale or detect_locale(u.text) for u in self.utterances]

    def report(self, model: IntentModel, predictions: list[IntentPrediction]) -> dict[str, Any]:
        """The figures for predictions already made for `self.utterances`, in order."""
        gold = [str(u.label) for u in self.utterances]
        predicted = [p.intent for p in predictions]
        rejected = [p.out_of_scope for p in predictions]
        locales = self.locales
        report: dict[str, Any] = {
            "data": self.name,
            "model_version": model.version,
            **intent_metrics(gold, predicted, rejected),
        }
        in_scope = [i for i, g in enumerate(gold) if g != OUT_OF_SCOPE]
        if in_scope:
            report["macro_f1"] = in_scope_macro_f1(gold, predicted)
            report["ece_in_scope"] = expected_calibration_error(
                np.array([predictions[i].confidence for i in in_scope]),
                np.array([predicted[i] == gold[i] for i in in_scope]),
            )
        report["per_locale"] = {
            locale: intent_metrics(
                [g for g, loc in zip(gold, locales, strict=True) if loc == locale],
                [p for p, loc in zip(predicted, locales, strict=True) if loc == locale],
                [r for r, loc in zip(rejected, locales, strict=True) if loc == locale],
            )
            for locale in sorted(set(locales))
        }
        return report


def evaluate_intent_model(model: IntentModel, data: str | Path, split: str = "test") -> dict[str, Any]:
    return IntentEvaluator(load_utterances(data, split), name=f"{data} ({split})")(model)


def format_intent_report(report: dict[str, Any]) -> str:
    header = f"{'slice':<10}{'examples':>10}{'accuracy':>12}{'acc. w/ rej.':>14}{'OOS recall':>12}{'OOS prec.':>11}"
    rows = [f"{report['data']}  model {report['model_version']}", header]

    def cell(metrics: dict[str, float], key: str, width: int) -> str:
        return f"{metrics[key]:>{width}.1%}" if key in metrics else f"{'–':>{width}}"

    for name, metrics in [("all", report), *report["per_locale"].items()]:
        rows.append(
            f"{name:<10}{int(metrics['examples']):>10}{cell(metrics, 'accuracy_before_rejection', 12)}"
            f"{cell(metrics, 'in_scope_accuracy', 14)}{cell(metrics, 'out_of_scope_recall', 12)}"
            f"{cell(metrics, 'out_of_scope_precision', 11)}"
        )
    if "ece_in_scope" in report:
        rows.append(f"ECE (in-scope): {report['ece_in_scope']:.2%}")
    return "\n".join(rows)
