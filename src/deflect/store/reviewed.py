"""`deflect export-reviewed`: the newest label of every reviewed suggestion from the event database, written as a CSV
and a saved Hugging Face dataset that `load_utterances` reads back (deflect.ingest.reviewed merges it into training)."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

from deflect.core.atomic import atomic_file, staged_folder
from deflect.core.errors import DataFormatError
from deflect.core.records import OUT_OF_SCOPE
from deflect.core.reviewed_format import COLUMNS, DATASET_FOLDER, NEW_INTENT, REVIEWED_CSV, ReviewedRow
from deflect.core.text import normalize_text
from deflect.core.vocabulary import LabelAction
from deflect.store.events import EventStore, as_utc
from deflect.store.tables import ReviewLabel, newest_labels


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


def reviewed_rows(store: EventStore, customer_choices: bool = True) -> list[ReviewedRow]:
    """The newest label of every reviewed suggestion, oldest first (empty texts included); without
    `customer_choices`, the newest label given by a reviewer rather than by a customer's choice."""
    statement = newest_labels() if customer_choices else newest_labels(LabelAction.CUSTOMER_CHOICE.value)
    with store.session() as session:
        return [_row(label) for label in session.scalars(statement)]


def _write_csv(path: Path, rows: Sequence[ReviewedRow]) -> None:
    with atomic_file(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(astuple(row) for row in rows)


def _write_dataset(folder: Path, rows: Sequence[ReviewedRow]) -> None:
    """A DatasetDict with one `train` split (reviewed labels are training data), every column a string."""
    from datasets import Dataset, DatasetDict, Features, Value

    columns: dict[str, list[Any]] = {name: [getattr(row, name) for row in rows] for name in COLUMNS}
    features = Features({name: Value("string") for name in COLUMNS})
    with staged_folder(folder) as staging:
        DatasetDict({"train": Dataset.from_dict(columns, features=features)}).save_to_disk(str(staging))


def export_reviewed(store: EventStore, out_dir: str | Path, customer_choices: bool = True) -> ExportSummary:
    """Write `out_dir/reviewed.csv` and `out_dir/dataset/` (replacing earlier exports there) with the newest label
    of every reviewed suggestion, in the order they were labelled. Labels customers gave by choosing an option are
    marked with the action `customer_choice`; `customer_choices=False` leaves them out."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DataFormatError(out, "is a file; give a folder for the export")
    every = reviewed_rows(store, customer_choices)
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
