"""Graduation: a bootstrapped deployment's next model, trained on its help center's texts and the messages its
reviewers labelled (`deflect train --articles SRC --include-reviewed DIR`).

The intents stay the article groups the bootstrapped model answers with, so reviewers label messages with them
(or mark them out of scope). Every seed text of the articles (the pseudo-queries too) and every reviewed message
train the head with a trained model's recipe (`TrainingArguments`, character n-grams included: real messages now
teach the customers' wording), and C comes from cross-fitting over all of them; once there are enough reviewed
messages, the calibration and thresholds are fitted on the out-of-fold predictions of those alone, with a trained
model's answer precision, because real messages are what the thresholds decide on, and the articles' own texts are
easier than real messages for some help centers and harder for others."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deflect.core.artifacts import manifest_fingerprint, write_json
from deflect.core.atomic import staged_folder
from deflect.core.encoder import Encoder
from deflect.core.records import OUT_OF_SCOPE, Utterance
from deflect.ingest.articles import read_articles
from deflect.ingest.reviewed import ReviewedMerge, merge_reviewed, read_reviewed
from deflect.training.bootstrap import (
    ANSWERS_FILE,
    answer_templates,
    bootstrap_data,
    help_center_manifest,
    intent_labels,
)
from deflect.training.model_card import render_model_card
from deflect.training.trainer import TrainingArguments, TrainingDataError, train_intent_model, training_fingerprint

# Fewer reviewed messages than this leave calibration to all the texts: a threshold fitted on a handful of
# messages moves with each one.
LEAST_REVIEWED_FOR_CALIBRATION = 50


@dataclass
class GraduationOutcome:
    folder: Path
    skipped: bool
    metrics: dict
    merge: ReviewedMerge
    calibrated_on_reviewed: bool


def run_graduation(
    articles_source: str | Path,
    reviewed: str | Path | list[Utterance],
    out: str | Path,
    arguments: TrainingArguments,
    *,
    force: bool = False,
    encoder: Encoder | None = None,
) -> GraduationOutcome:
    """`reviewed`: an `export-reviewed` folder or CSV, or the reviewed utterances themselves."""
    out = Path(out)
    articles = read_articles(articles_source).articles
    data = bootstrap_data(articles, arguments.seed)
    seeds = data.training + data.pseudo_queries
    labelled = reviewed if isinstance(reviewed, list) else read_reviewed(reviewed)
    unknown = sorted({str(u.label) for u in labelled} - {u.label for u in seeds} - {OUT_OF_SCOPE})
    if unknown:
        raise TrainingDataError(
            f"reviewed labels name no article group of {articles_source}: {', '.join(unknown[:5])}"
            + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        )
    merge = merge_reviewed(seeds, labelled)
    reviewed_texts = {u.text for u in labelled}
    calibrate_on = np.array([u.text in reviewed_texts for u in merge.utterances])
    calibrated_on_reviewed = int(calibrate_on.sum()) >= LEAST_REVIEWED_FOR_CALIBRATION
    training_arguments = arguments
    fingerprint = training_fingerprint(merge.utterances, training_arguments)
    if not force and manifest_fingerprint(out) == fingerprint:
        metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
        return GraduationOutcome(out, True, metrics, merge, calibrated_on_reviewed)
    result = train_intent_model(
        merge.utterances,
        training_arguments,
        labels=intent_labels(articles),
        source=str(articles_source),
        calibrate_on=calibrate_on if calibrated_on_reviewed else None,
        encoder=encoder,
    )
    manifest = result.model.manifest
    manifest["data"]["reviewed"] = merge.manifest(reviewed if not isinstance(reviewed, list) else "given")
    manifest["bootstrap"] = {
        **help_center_manifest(articles_source, articles),
        "graduated": {
            "reviewed_messages": merge.added,
            "article_texts": len(seeds),
            "calibrated_on": "the reviewed messages' out-of-fold predictions"
            if calibrated_on_reviewed
            else f"all texts' out-of-fold predictions (fewer than {LEAST_REVIEWED_FOR_CALIBRATION} reviewed)",
        },
    }
    with staged_folder(out) as staging:
        result.model.save_pretrained(staging)
        write_json(staging / "metrics.json", result.metrics)
        write_json(staging / ANSWERS_FILE, answer_templates(articles))
        (staging / "README.md").write_text(render_model_card(manifest, result.metrics), encoding="utf-8")
    return GraduationOutcome(out, False, result.metrics, merge, calibrated_on_reviewed)
