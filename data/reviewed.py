"""Reviewed labels as training data: export the newest label of every reviewed suggestion from the event database
(a CSV and a saved Hugging Face dataset that `load_utterances` reads back), read an export, and merge it into a
training split."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import astuple, dataclass, field, fields
from pathlib import Path
from typing import Any

from deflect.data.errors import DataFormatError
from deflect.data.events import EventStore, as_utc
from deflect.data.records import OUT_OF_SCOPE, Utterance
from deflect.data.review_tables import ReviewLabel
from deflect.data.text import normalize_text
from deflect.data.utterances import read_utterance_file
from sqlalchemy import Select, func, select

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


@dataclass(frozen=True)
class ExportSummary:
    folder: Path
    csv_path: Path
    dataset_path: Path
    rows: int
    actions: dict[str, int]  # action → rows
    new_intents: list[str]  # intents introduced by `new_intent` labels
    skipped_empty: int = 0  # labels whose text is empty once normalised (nothing to learn from)

    def line(self) -> str:
        actions = ", ".join(f"{action} {count}" for action, count in sorted(self.actions.items())) or "none"
        new = ", ".join(self.new_intents) or "none"
        skipped = f"; skipped {self.skipped_empty} with empty text" if self.skipped_empty else ""
        return f"{self.folder}: {self.rows} reviewed labels ({actions}); new intents: {new}{skipped}"


def newest_labels() -> Select[tuple[ReviewLabel]]:
    """The label that counts for each suggestion: labels are append-only, so the newest one (latest `created_at`,
    then highest id) wins. Ordered oldest first."""
    ranked = select(
        ReviewLabel.id,
        func.row_number()
        .over(partition_by=ReviewLabel.suggestion_id, order_by=(ReviewLabel.created_at.desc(), ReviewLabel.id.desc()))
        .label("rank"),
    ).subquery()
    return (
        select(ReviewLabel)
        .join(ranked, ReviewLabel.id == ranked.c.id)
        .where(ranked.c.rank == 1)
        .order_by(ReviewLabel.created_at, ReviewLabel.id)
    )


def _row(label: ReviewLabel) -> ReviewedRow:
    return ReviewedRow(
        text=normalize_text(label.text),
        label=OUT_OF_SCOPE if label.action == OUT_OF_SCOPE else label.intent,
        locale=label.locale,
        action=label.action,
        article_id=label.article_id or "",
        reviewer=label.reviewer,
        labelled_at=as_utc(label.created_at).isoformat(timespec="seconds"),
        suggestion_id=label.suggestion_id,
        predicted_intent=label.predicted_intent,
        model_version=label.model_version,
    )


def reviewed_rows(store: EventStore) -> list[ReviewedRow]:
    """The newest label of every reviewed suggestion, oldest first (empty texts included)."""
    with store.session() as session:
        return [_row(label) for label in session.scalars(newest_labels())]


def _write_csv(path: Path, rows: Sequence[ReviewedRow]) -> None:
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(astuple(row) for row in rows)
    partial.replace(path)


def _write_dataset(folder: Path, rows: Sequence[ReviewedRow]) -> None:
    """A DatasetDict with one `train` split (reviewed labels are training data), every column a string."""
    from datasets import Dataset, DatasetDict, Features, Value

    columns: dict[str, list[Any]] = {name: [getattr(row, name) for row in rows] for name in COLUMNS}
    features = Features({name: Value("string") for name in COLUMNS})
    staging = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    DatasetDict({"train": Dataset.from_dict(columns, features=features)}).save_to_disk(str(staging))
    if folder.exists():
        shutil.rmtree(folder)
    staging.rename(folder)


def export_reviewed(store: EventStore, out_dir: str | Path) -> ExportSummary:
    """Write `out_dir/reviewed.csv` and `out_dir/dataset/` (replacing earlier exports there) with the newest label
    of every reviewed suggestion, in the order they were labelled."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DataFormatError(out, "is a file; give a folder for the export")
    every = reviewed_rows(store)
    rows = [row for row in every if row.text]
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(out / REVIEWED_CSV, rows)
    _write_dataset(out / DATASET_FOLDER, rows)
    return ExportSummary(
        folder=out,
        csv_path=out / REVIEWED_CSV,
        dataset_path=out / DATASET_FOLDER,
        rows=len(rows),
        actions=dict(Counter(row.action for row in rows)),
        new_intents=sorted({row.label for row in rows if row.action == NEW_INTENT}),
        skipped_empty=len(every) - len(rows),
    )


def read_reviewed(path: str | Path) -> list[Utterance]:
    """Reviewed utterances from an export folder or its CSV (any CSV or JSONL with text and label works too)."""
    path = Path(path)
    if path.is_dir():
        path = path / REVIEWED_CSV
    return read_utterance_file(path)


@dataclass
class ReviewedMerge:
    """A training split with reviewed utterances merged in, and what the merge did."""

    utterances: list[Utterance]
    added: int  # reviewed utterances in the training split
    replaced: int  # training utterances with the same text and another label, dropped for the reviewed one
    held_out: int  # reviewed utterances left out because their text is in the validation or test data
    new_intents: list[str]  # labels the training data did not have
    too_few: dict[str, int] = field(default_factory=dict)  # new intents left out: fewer than `minimum` examples

    def manifest(self, source: str | Path) -> dict[str, Any]:
        return {
            "source": str(source),
            "rows": self.added,
            "replaced_training_rows": self.replaced,
            "left_out_in_held_out_data": self.held_out,
            "new_intents": self.new_intents,
            "new_intents_with_too_few_examples": self.too_few,
        }


def merge_reviewed(
    training: Sequence[Utterance],
    reviewed: Sequence[Utterance],
    held_out_texts: AbstractSet[str] = frozenset(),
    minimum: int = 2,
) -> ReviewedMerge:
    """Reviewed labels win: a training utterance with the text of a reviewed one is dropped for it, and among
    reviewed utterances with the same text the later one (an export is in labelling order) wins. Texts of the
    validation or test data never enter training, so the figures measured on them stay honest. A new intent needs
    `minimum` examples (the trainer's own minimum), or it waits for more reviews."""
    latest: dict[str, Utterance] = {}
    for utterance in reviewed:
        latest.pop(utterance.text, None)  # re-insert, so the order stays the labelling order
        latest[utterance.text] = utterance
    unseen = [u for text, u in latest.items() if text not in held_out_texts]
    known = {u.label for u in training}
    new_counts = Counter(str(u.label) for u in unseen if u.label not in known)
    too_few = {label: count for label, count in sorted(new_counts.items()) if count < minimum}
    kept = {u.text: u for u in unseen if u.label not in too_few}
    remaining = [u for u in training if u.text not in kept]
    return ReviewedMerge(
        utterances=remaining + list(kept.values()),
        added=len(kept),
        replaced=sum(1 for u in training if u.text in kept and kept[u.text].label != u.label),
        held_out=len(latest) - len(unseen),
        new_intents=sorted(label for label in new_counts if label not in too_few),
        too_few=too_few,
    )
