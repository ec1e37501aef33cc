"""Intent label maps: intent id → display names per locale (`intents.json` beside the training data)."""

from __future__ import annotations

import json
from pathlib import Path

from deflect.core.errors import DataFormatError
from deflect.core.records import IntentLabel


def load_label_names(path: str | Path) -> dict[str, IntentLabel]:
    """`{"delivery_status": {"ko": "배송 조회", "en": "Delivery status"}, ...}`"""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataFormatError(path, f"invalid JSON ({error.msg})", line=error.lineno) from None
    if not isinstance(document, dict):
        raise DataFormatError(path, "expected a JSON object mapping intent ids to {locale: name}")
    labels = {}
    for intent, names in document.items():
        if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
            raise DataFormatError(path, "names must be an object of locale → name", record=f"intent '{intent}'")
        labels[intent] = IntentLabel(intent, dict(names))
    return labels


def find_label_names(data_source: str | Path) -> dict[str, IntentLabel]:
    """The `intents.json` next to a data file (or inside a data folder), if there is one."""
    source = Path(data_source)
    candidate = (source if source.is_dir() else source.parent) / "intents.json"
    return load_label_names(candidate) if candidate.is_file() else {}
