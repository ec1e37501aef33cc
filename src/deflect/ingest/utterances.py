"""Load labelled utterances from CSV, JSONL, a saved Hugging Face dataset, BANKING77 or CLINC150."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from deflect.core.errors import DataFormatError
from deflect.core.records import OUT_OF_SCOPE, Utterance
from deflect.core.text import normalize_text
from deflect.ingest.files import text_lines

SPLITS = ("train", "validation", "test")


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a CSV (header with a `text` column) or JSONL file (objects with a `text` field), as dicts."""
    return [row for _, row in _numbered_rows(Path(path))]


def _numbered_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise DataFormatError(path, "no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = list(_read_csv(path))
    elif suffix in (".jsonl", ".ndjson"):
        rows = list(_read_jsonl(path))
    else:
        raise DataFormatError(path, f"unsupported file type {suffix or '(none)'}; use .csv or .jsonl")
    if not rows:
        raise DataFormatError(path, "the file holds no rows")
    return rows


def _read_csv(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(text_lines(path))
    if reader.fieldnames is None or "text" not in reader.fieldnames:
        raise DataFormatError(
            path, f"the header must have a 'text' column (found: {reader.fieldnames or 'none'})", line=1
        )
    for row in reader:
        if None in row:
            raise DataFormatError(path, "more cells than header columns", line=reader.line_num)
        missing = [name for name, value in row.items() if value is None]
        if missing:
            raise DataFormatError(path, f"missing cell(s) for {', '.join(missing)}", line=reader.line_num)
        _require_text(path, row, reader.line_num)
        yield reader.line_num, row


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text_lines(path), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataFormatError(path, f"invalid JSON ({error.msg})", line=number) from None
        if not isinstance(row, dict):
            raise DataFormatError(path, "each line must be a JSON object", line=number)
        _require_text(path, row, number)
        yield number, row


def _require_text(path: Path, row: dict[str, Any], line: int) -> None:
    text = row.get("text")
    if not isinstance(text, str):
        raise DataFormatError(path, "'text' must be a string", line=line)
    if not normalize_text(text):
        raise DataFormatError(path, "'text' is empty", line=line)


def _normalize_locale(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value).strip().lower().replace("_", "-").split("-")[0] or None


def _utterance(path: Path, row: dict[str, Any], line: int, require_label: bool) -> Utterance:
    label = row.get("label")
    if label is None or (isinstance(label, str) and not label.strip()):
        if require_label:
            raise DataFormatError(path, "'label' is missing or empty", line=line)
        label = None
    return Utterance(
        text=normalize_text(row["text"]),
        label=None if label is None else str(label).strip(),
        locale=_normalize_locale(row.get("locale")),
    )


def read_utterance_file(path: str | Path, *, require_label: bool = True) -> list[Utterance]:
    path = Path(path)
    return [_utterance(path, row, line, require_label) for line, row in _numbered_rows(path)]


def load_banking77(folder: str | Path, split: str = "train") -> list[Utterance]:
    """The PolyAI BANKING77 CSVs (`text,category`), read where they lie. It has no validation split: carve one
    from `train`."""
    if split not in ("train", "test"):
        raise DataFormatError(Path(folder), f"BANKING77 has no split '{split}' (found: test, train)")
    path = Path(folder) / f"{split}.csv"
    utterances = []
    for line, row in _read_csv(path):
        category = (row.get("category") or "").strip()
        if not category:
            raise DataFormatError(path, "'category' is missing or empty", line=line)
        utterances.append(Utterance(normalize_text(row["text"]), category, "en"))
    return utterances


def load_clinc150(path: str | Path, split: str = "train", *, include_out_of_scope: bool = True) -> list[Utterance]:
    """CLINC150 `data_full.json`; its `oos` label becomes `out_of_scope` and `validation` reads `val`."""
    path = Path(path)
    if path.is_dir():
        path = path / "data_full.json"
    key = {"validation": "val"}.get(split, split)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise DataFormatError(path, f"cannot read CLINC150 JSON ({error})") from None
    if key not in document:
        raise DataFormatError(path, f"no split '{key}' (found: {', '.join(sorted(document))})")
    keys = [key] + ([f"oos_{key}"] if include_out_of_scope and f"oos_{key}" in document else [])
    utterances = []
    for name in keys:
        for index, item in enumerate(document[name]):
            if not (isinstance(item, list) and len(item) == 2 and all(isinstance(v, str) for v in item)):
                raise DataFormatError(path, "each item must be [text, intent]", record=f"{name}[{index}]")
            text, intent = item
            utterances.append(Utterance(normalize_text(text), OUT_OF_SCOPE if intent == "oos" else intent, "en"))
    return utterances


def load_hf_dataset(folder: str | Path, split: str = "train", *, require_label: bool = True) -> list[Utterance]:
    """A dataset saved with `datasets`' `save_to_disk`: columns text, label (names or ClassLabel ids), locale."""
    from datasets import ClassLabel, DatasetDict, load_from_disk

    folder = Path(folder)
    try:
        loaded = load_from_disk(str(folder))
    except Exception as error:  # datasets raises several types for unreadable folders
        raise DataFormatError(folder, f"not a saved Hugging Face dataset ({error})") from None
    if isinstance(loaded, DatasetDict):
        if split not in loaded:
            raise DataFormatError(folder, f"no split '{split}' (found: {', '.join(loaded)})")
        loaded = loaded[split]
    if "text" not in loaded.column_names:
        raise DataFormatError(folder, f"the dataset needs a 'text' column (found: {', '.join(loaded.column_names)})")
    label_feature = loaded.features.get("label")
    utterances = []
    for index, row in enumerate(loaded):
        label = row.get("label")
        if isinstance(label_feature, ClassLabel) and isinstance(label, int):
            label = label_feature.int2str(label)
        try:
            utterances.append(_utterance(folder, {**row, "label": label}, index, require_label))
        except DataFormatError as error:
            raise DataFormatError(folder, error.problem, record=f"row {index}") from None
    return utterances


def load_utterances(source: str | Path, split: str = "train", *, require_label: bool = True) -> list[Utterance]:
    """Utterances from a file or folder, recognising each supported format by its shape."""
    path = Path(source)
    if not path.exists():
        raise DataFormatError(path, "no such file or folder")
    if path.is_file():
        if path.name == "data_full.json":
            return load_clinc150(path, split)
        return read_utterance_file(path, require_label=require_label)
    if (path / "categories.json").is_file() and (path / "train.csv").is_file():
        return load_banking77(path, split)
    if (path / "data_full.json").is_file():
        return load_clinc150(path, split)
    if any((path / name).is_file() for name in ("dataset_dict.json", "dataset_info.json", "state.json")):
        return load_hf_dataset(path, split, require_label=require_label)
    for suffix in (".csv", ".jsonl"):
        candidate = path / f"{split}{suffix}"
        if candidate.is_file():
            return read_utterance_file(candidate, require_label=require_label)
    raise DataFormatError(
        path,
        f"no recognised data here (looked for {split}.csv, {split}.jsonl, a saved dataset, "
        "BANKING77 or CLINC150 files)",
    )
