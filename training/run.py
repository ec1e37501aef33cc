"""The `deflect train` recipe: load data, skip if up to date, train, save the artifact with metrics and card."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from deflect.data.labels import find_label_names
from deflect.data.records import OUT_OF_SCOPE
from deflect.data.utterances import load_utterances
from deflect.training.artifact import manifest_fingerprint, staged_folder, write_json
from deflect.training.model_card import render_model_card
from deflect.training.trainer import TrainingArguments, train_intent_model, training_fingerprint


@dataclass
class TrainOutcome:
    folder: Path
    skipped: bool
    metrics: dict


def run_training(
    data: str | Path,
    out: str | Path,
    arguments: TrainingArguments,
    *,
    validation_split: str | None = None,
    without_out_of_scope: bool = False,
    force: bool = False,
) -> TrainOutcome:
    """Train on the data's `train` split; with `validation_split`, calibrate and set thresholds on that split
    instead of cross-fitting; `without_out_of_scope` drops out-of-scope examples from training (not from
    validation), as in CLINC150's threshold protocol."""
    out = Path(out)
    utterances = load_utterances(data, "train")
    if without_out_of_scope:
        utterances = [u for u in utterances if u.label != OUT_OF_SCOPE]
    validation = load_utterances(data, validation_split) if validation_split else None
    fingerprint = training_fingerprint(utterances, arguments, validation)
    if not force and manifest_fingerprint(out) == fingerprint:
        metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
        return TrainOutcome(out, skipped=True, metrics=metrics)

    result = train_intent_model(
        utterances, arguments, validation=validation, labels=find_label_names(data), source=str(data)
    )
    with staged_folder(out) as staging:
        result.model.save_pretrained(staging)
        write_json(staging / "metrics.json", result.metrics)
        (staging / "README.md").write_text(render_model_card(result.model.manifest, result.metrics), encoding="utf-8")
    return TrainOutcome(out, skipped=False, metrics=result.metrics)
