"""The `deflect train` recipe: load data, skip if up to date, train, save the artifact with metrics and card."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from deflect.data.labels import find_label_names
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
    data: str | Path, out: str | Path, arguments: TrainingArguments, *, force: bool = False
) -> TrainOutcome:
    out = Path(out)
    utterances = load_utterances(data, "train")
    fingerprint = training_fingerprint(utterances, arguments)
    if not force and manifest_fingerprint(out) == fingerprint:
        metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
        return TrainOutcome(out, skipped=True, metrics=metrics)

    result = train_intent_model(utterances, arguments, labels=find_label_names(data), source=str(data))
    with staged_folder(out) as staging:
        result.model.save_pretrained(staging)
        write_json(staging / "metrics.json", result.metrics)
        (staging / "README.md").write_text(render_model_card(result.model.manifest, result.metrics), encoding="utf-8")
    return TrainOutcome(out, skipped=False, metrics=result.metrics)
