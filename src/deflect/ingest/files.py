"""Reading our users' text files: UTF-8 (with or without a byte-order mark), or a clear error naming the file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from deflect.core.errors import DataFormatError


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataFormatError(path, f"not UTF-8 text ({error.reason} at byte {error.start})") from None


def text_lines(path: Path) -> Iterator[str]:
    """The file's lines as they stream in, for `csv` readers (which must see the raw newlines)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield from handle
    except UnicodeDecodeError as error:
        raise DataFormatError(path, f"not UTF-8 text ({error.reason} at byte {error.start})") from None
