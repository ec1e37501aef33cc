"""The `deflect train` recipe: load data (and merge reviewed labels into the training split), skip if up to date,
train, save the artifact with metrics and card."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

from deflect.core.artifacts import manifest_fingerprint, write_json
from deflect.core.atomic import staged_folder
from deflect.core.errors import DataFormatError
from deflect.core.records import OUT_OF_SCOPE, Utterance
from deflect.ingest.conversations import evaluation_set
from deflect.ingest.labels import find_label_names
from deflect.ingest.reviewed import ReviewedMerge, merge_reviewed, read_reviewed
from deflect.ingest.utterances import load_utterances
from deflect.intent.model import IntentModel
from deflect.training.context_gate import ContextGateError, fit_context_gate
from deflect.training.model_card import render_model_card
from deflect.training.trainer import TrainingArguments, TrainingDataError, train_intent_model, training_fingerprint


@dataclass
class TrainOutcome:
    folder: Path
    skipped: bool
    metrics: dict
    reviewed: ReviewedMerge | None = None


def _held_out_texts(data: str | Path, training: list[Utterance], validation: list[Utterance] | None) -> set[str]:
    """Texts of the given validation split and of the data's own validation and test splits (those it has apart
    from training): the export and promotion gates and the evaluation read them."""
    texts = {u.text for u in validation or []}
    for split in ("validation", "test"):
        try:
            held_out = load_utterances(data, split)
        except DataFormatError:
            continue
        if held_out != training:
            texts |= {u.text for u in held_out}
    return texts


def files_digest(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(path.glob("*.jsonl")) if path.is_dir() else [path]:
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _add_context_gate(model: IntentModel, metrics: dict, conversations: Path, answer_precision: float) -> None:
    labelled, _ = evaluation_set(conversations, frozenset(model.intents), split=None)
    try:
        gate, report = fit_context_gate(model, labelled, str(conversations), answer_precision=answer_precision)
    except ContextGateError as error:
        raise TrainingDataError(f"{conversations}: {error}") from None
    model.context_gate = gate
    model.manifest["context"] = gate.manifest_section(**report)
    metrics["context"] = report


def run_training(
    data: str | Path,
    out: str | Path,
    arguments: TrainingArguments,
    *,
    validation_split: str | None = None,
    without_out_of_scope: bool = False,
    force: bool = False,
    reviewed: str | Path | None = None,
    conversations: str | Path | None = None,
) -> TrainOutcome:
    """Train on the data's `train` split; with `validation_split`, calibrate and set thresholds on that split
    instead of cross-fitting; `without_out_of_scope` drops out-of-scope examples from training (not from
    validation), as in CLINC150's threshold protocol. `reviewed` (an `export-reviewed` folder or its CSV) is merged
    into the training split only: see `merge_reviewed`. `conversations` (labelled conversations, a JSONL file or a
    folder of them; their test split is never read) fits the context gate."""
    out = Path(out)
    if conversations is not None:
        arguments = replace(arguments, conversations=f"{conversations}@{files_digest(Path(conversations))}")
    utterances = load_utterances(data, "train")
    validation = load_utterances(data, validation_split) if validation_split else None
    merge = None
    if reviewed is not None:
        held_out = _held_out_texts(data, utterances, validation)
        merge = merge_reviewed(utterances, read_reviewed(reviewed), held_out)
        utterances = merge.utterances
    if without_out_of_scope:
        utterances = [u for u in utterances if u.label != OUT_OF_SCOPE]
    fingerprint = training_fingerprint(utterances, arguments, validation)
    if not force and manifest_fingerprint(out) == fingerprint:
        metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
        return TrainOutcome(out, skipped=True, metrics=metrics, reviewed=merge)

    result = train_intent_model(
        utterances, arguments, validation=validation, labels=find_label_names(data), source=str(data)
    )
    if merge is not None and reviewed is not None:
        result.model.manifest["data"]["reviewed"] = merge.manifest(reviewed)
    if conversations is not None:
        _add_context_gate(result.model, result.metrics, Path(conversations), arguments.answer_precision)
    with staged_folder(out) as staging:
        result.model.save_pretrained(staging)
        write_json(staging / "metrics.json", result.metrics)
        (staging / "README.md").write_text(render_model_card(result.model.manifest, result.metrics), encoding="utf-8")
    return TrainOutcome(out, skipped=False, metrics=result.metrics, reviewed=merge)
