"""Writes that a crash or a second writer never leaves half done: the new content goes to a uniquely named sibling
first and takes the target's name in one rename."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_file(path: Path, *, mode: int | None = None, newline: str | None = None) -> Iterator[IO[str]]:
    """A text file open for writing that replaces `path` when the block ends without error (`mode`: its
    permissions, set before anything is written to it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        if mode is not None:
            os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    with atomic_file(path, mode=mode) as handle:
        handle.write(text)


def write_json_atomic(path: Path, document: Any, *, mode: int | None = None) -> None:
    write_text_atomic(path, json.dumps(document, ensure_ascii=False, indent=2) + "\n", mode=mode)


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """A sibling folder to write into, which replaces `target` whole when the block ends without error."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
        target.rename(retired / target.name)
        staging.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staging.rename(target)
