"""Intent label maps: intent id → display names per locale (`intents.json` beside the training data), and the
phrasings clarifying questions offer customers (`intent_options.json`, optional, the same shape)."""

from __future__ import annotations

import json
from pathlib import Path

from deflect.core.errors import DataFormatError
from deflect.core.records import IntentLabel

OPTIONS_FILE = "intent_options.json"


def _locale_texts(path: Path) -> dict[str, dict[str, str]]:
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataFormatError(path, f"invalid JSON ({error.msg})", line=error.lineno) from None
    if not isinstance(document, dict):
        raise DataFormatError(path, "expected a JSON object mapping intent ids to {locale: name}")
    texts = {}
    for intent, names in document.items():
        if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
            raise DataFormatError(path, "names must be an object of locale → name", record=f"intent '{intent}'")
        texts[intent] = dict(names)
    return texts


def load_label_names(path: str | Path, options_path: str | Path | None = None) -> dict[str, IntentLabel]:
    """`{"delivery_status": {"ko": "배송 조회", "en": "Delivery status"}, ...}`; `options_path` the same shape, with
    the customer-facing phrasing of each intent."""
    names = _locale_texts(Path(path))
    options = _locale_texts(Path(options_path)) if options_path is not None else {}
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise DataFormatError(Path(options_path or path), f"phrasings for intents with no names: {', '.join(unknown)}")
    return {intent: IntentLabel(intent, texts, options.get(intent, {})) for intent, texts in names.items()}


def find_label_names(data_source: str | Path) -> dict[str, IntentLabel]:
    """The `intents.json` next to a data file (or inside a data folder), if there is one."""
    source = Path(data_source)
    folder = source if source.is_dir() else source.parent
    candidate, options = folder / "intents.json", folder / OPTIONS_FILE
    return load_label_names(candidate, options if options.is_file() else None) if candidate.is_file() else {}
