"""The reviewed-labels export, as its writer (`deflect export-reviewed`, deflect.store) and its readers (training,
deflect.ingest) agree on it: a folder with a CSV and a saved Hugging Face dataset of the same rows."""

from __future__ import annotations

from dataclasses import dataclass, fields

REVIEWED_CSV = "reviewed.csv"
DATASET_FOLDER = "dataset"
NEW_INTENT = "new_intent"


@dataclass(frozen=True)
class ReviewedRow:
    """One exported label. The field order is the CSV's column order; `label` is the intent the reviewer set
    (`out_of_scope` for out-of-scope messages), named as the utterance loaders expect it."""

    text: str
    label: str
    locale: str
    action: str
    article_id: str
    reviewer: str
    labelled_at: str  # ISO 8601, UTC
    suggestion_id: str
    predicted_intent: str
    model_version: str


COLUMNS = tuple(f.name for f in fields(ReviewedRow))
