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
from deflect.data.records import Utterance
from deflect.training.artifact import (
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    ONNX_FOLDER,
    ONNX_MANIFEST,
    ArtifactError,
    read_manifest,
    staged_folder,
    write_json,
)
from deflect.training.encoders import onnx_encoder
from deflect.training.metrics import intent_metrics
from deflect.training.model import IntentModel
from deflect.training.onnx_export import export_encoder


@dataclass(frozen=True)
class OptimizationReport:
    model_version: str
    encoder: str
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


def optimize_artifact(
    model_dir: str | Path,
    check: Sequence[Utterance],
    *,
    max_accuracy_drop: float = 0.003,
    threads: int | None = None,
) -> OptimizationReport:
    """Export, compare on `check` (labelled utterances), and swap the export into `model_dir/onnx/` only if
    accuracy (before and after out-of-scope rejection) drops by at most `max_accuracy_drop`."""
    model_dir = Path(model_dir)
    labelled = [u for u in check if u.label is not None]
    if not labelled:
        raise ArtifactError("optimize needs labelled utterances to check the exported encoder against")
    native = IntentModel.from_pretrained(model_dir, runtime="native", threads=threads)
    native_metrics, native_decisions, native_vectors = _figures(native, labelled)

    with staged_folder(model_dir / ONNX_FOLDER) as staging:
        started = time.perf_counter()
        exported = export_encoder(native.encoder.reference, staging)
        export_seconds = time.perf_counter() - started
        encoder = onnx_encoder(staging, native.encoder.reference, threads=threads)
        optimized = IntentModel.from_pretrained(model_dir, encoder=encoder)
        onnx_metrics, onnx_decisions, onnx_vectors = _figures(optimized, labelled)
        cosines = np.sum(native_vectors * onnx_vectors, axis=1)
        report = OptimizationReport(
            model_version=native.version,
            encoder=native.encoder.reference,
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
        if report.accuracy_drop > max_accuracy_drop:
            raise OptimizationRejected(
                f"{model_dir}: the int8 ONNX encoder loses {report.accuracy_drop:.2%} accuracy on {len(labelled)} "
                f"checked utterances (allowed {max_accuracy_drop:.2%}); the model keeps its original encoder"
            )
        write_json(staging / ONNX_MANIFEST, {**asdict(report), "max_accuracy_drop": max_accuracy_drop})
    return report
