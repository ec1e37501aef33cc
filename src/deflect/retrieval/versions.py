"""Immutable index versions under one index root, and the pointer file that names the one the root serves.

The index root is the folder `deflect index --out` wrote and `index_dir` (settings, `--index`, the registry) names:

    <root>/manifest.json, vectors.faiss, …    the index first built there: never modified once a version exists
    <root>/versions/0001-<index version>/     one complete index per later change (an admin article edit, or
    <root>/versions/0002-<index version>/     `deflect index` on a root that already has versions); never modified
    <root>/current.json                       the pointer: {"folder": "versions/0002-…", "version": …};
                                              absent: the root serves its own files

Loading the root (`served_folder`) loads the folder the pointer names; loading a version folder loads exactly that
version, so naming one pins it. A change is written whole into `versions/.staging-*`, flushed to disk, renamed to
its numbered name, and only then does the pointer switch (`write_json_atomic`: one rename). A crash at any point
leaves the pointer naming a complete version — the old one until the switch, the new one after it; what a crash
leaves behind (a staging folder, an unnamed complete version) is removed or pruned by the next writer. Writers on
one root hold an exclusive lock on `versions/.lock`, so two processes' changes never interleave.

`prune` removes the oldest numbered versions beyond `keep`, never the one the pointer names nor a protected one (the
registry protects the folders its entries were promoted with and serve).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from deflect.core.artifacts import ArtifactError
from deflect.core.atomic import write_json_atomic

POINTER_FILE = "current.json"
POINTER_FORMAT = "deflect-index-pointer"
VERSIONS_FOLDER = "versions"
LOCK_FILE = ".lock"
KEEP_VERSIONS = 5  # numbered versions `prune` keeps, besides the served and the protected ones
_NUMBERED = re.compile(r"^(\d+)-(.+)$")
_LEFTOVERS = (".staging-", ".pruned-")

# The steps of a save, in order: the index files written into the staging folder, the folder flushed, renamed to
# its version name, the pointer switched. `after_step` (None in normal runs) is called after each, so a test can
# raise or end the process there and check what a restart loads.
SAVE_STEPS = ("vectors", "lexical", "articles", "chunks", "manifest", "synced", "renamed", "pointer")
after_step: Callable[[str], None] | None = None


def checkpoint(step: str) -> None:
    if after_step is not None:
        after_step(step)


@dataclass(frozen=True)
class Pointer:
    folder: str  # relative to the root: versions/<name>
    version: str  # the index version (its manifest's) in that folder


def read_pointer(root: Path) -> Pointer | None:
    """The root's pointer, None when it has none (it serves its own files)."""
    path = Path(root) / POINTER_FILE
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        pointer = Pointer(str(document["folder"]), str(document["version"]))
    except (ValueError, KeyError, TypeError) as error:
        raise ArtifactError(f"{path}: unreadable index pointer ({error})") from None
    parts = Path(pointer.folder).parts
    if document.get("format") != POINTER_FORMAT or len(parts) != 2 or parts[0] != VERSIONS_FOLDER:
        raise ArtifactError(f"{path}: not an index pointer to a folder in {VERSIONS_FOLDER}/")
    return pointer


def served_folder(folder: str | Path) -> Path:
    """The folder whose files an index folder serves: the version its pointer names, else itself."""
    folder = Path(folder)
    pointer = read_pointer(folder)
    if pointer is None:
        return folder
    target = folder / pointer.folder
    if not target.is_dir():
        raise ArtifactError(f"{folder / POINTER_FILE}: names {pointer.folder}, which does not exist")
    return target


def _numbered(name: str) -> tuple[int, str] | None:
    """(number, index version) of a version folder's name, None for any other name."""
    match = _NUMBERED.match(name)
    return (int(match[1]), match[2]) if match else None


def index_root(folder: str | Path) -> Path:
    """The root a folder belongs to: its root when it is one of a root's numbered versions, else itself."""
    folder = Path(folder)
    is_version = folder.parent.name == VERSIONS_FOLDER and _numbered(folder.name) is not None
    return folder.parent.parent if is_version and (folder.parent.parent / POINTER_FILE).is_file() else folder


def list_versions(root: str | Path) -> list[tuple[int, str, Path]]:
    """The root's numbered version folders as (number, index version, folder), oldest first."""
    versions = Path(root) / VERSIONS_FOLDER
    if not versions.is_dir():
        return []
    named = [(parsed, path) for path in versions.iterdir() if (parsed := _numbered(path.name)) and path.is_dir()]
    return [(number, version, path) for (number, version), path in sorted(named)]


def version_folder(root: str | Path, version: str) -> Path | None:
    """The numbered folder holding an index version, if the root has one."""
    return next((path for _, named, path in list_versions(root) if named == version), None)


@contextmanager
def _locked(root: Path) -> Iterator[Path]:
    """The root's versions folder, held exclusively (across processes) until the block ends."""
    versions = root / VERSIONS_FOLDER
    versions.mkdir(parents=True, exist_ok=True)
    with (versions / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield versions
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _remove_leftovers(root: Path, versions: Path) -> None:
    """What a crashed writer left (only writers, holding the lock, make these): half-written or half-pruned
    versions and a pointer file that never took the pointer's name."""
    for path in versions.iterdir():
        if path.name.startswith(_LEFTOVERS):
            shutil.rmtree(path, ignore_errors=True)
    for partial in root.glob(f".{POINTER_FILE}.*.partial"):
        partial.unlink(missing_ok=True)


def _sync(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sync_tree(folder: Path) -> None:
    """Flush every file and folder under `folder` to disk, so a rename never publishes data still in memory."""
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True) + [folder]:
        _sync(path)


def save_version(folder: str | Path, write: Callable[[Path], None], version: str) -> Path:
    """Write a new version of the root `folder` belongs to with `write(staging folder)`, then point the root at it;
    returns the new version's folder. Until the pointer switches, the root serves what it served before."""
    root = index_root(folder)
    with _locked(root) as versions:
        _remove_leftovers(root, versions)
        staging = Path(tempfile.mkdtemp(prefix=_LEFTOVERS[0], dir=versions))
        try:
            write(staging)
            _sync_tree(staging)
            checkpoint("synced")
            existing = list_versions(root)
            target = versions / f"{existing[-1][0] + 1 if existing else 1:04d}-{version}"
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _sync(versions)
        checkpoint("renamed")
        pointer = {
            "format": POINTER_FORMAT,
            "format_version": 1,
            "folder": f"{VERSIONS_FOLDER}/{target.name}",
            "version": version,
            "switched_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        write_json_atomic(root / POINTER_FILE, pointer)
        _sync(root)
        checkpoint("pointer")
    return target


def prune(folder: str | Path, keep: int = KEEP_VERSIONS, protected: Collection[Path] = ()) -> list[Path]:
    """Remove the root's oldest numbered versions beyond the newest `keep`, never the served one nor one in
    `protected`; returns the removed folders. A removed folder is first renamed away, so a crash mid-removal never
    leaves a half version under a version's name."""
    root = index_root(folder)
    if not (root / VERSIONS_FOLDER).is_dir():
        return []
    with _locked(root) as versions:
        _remove_leftovers(root, versions)
        kept = {path.resolve() for path in protected} | {served_folder(root).resolve()}
        candidates = [path for _, _, path in list_versions(root)]
        removed = [path for path in candidates[: max(0, len(candidates) - keep)] if path.resolve() not in kept]
        for path in removed:
            retired = versions / f"{_LEFTOVERS[1]}{path.name}"
            path.rename(retired)
            shutil.rmtree(retired, ignore_errors=True)
    return removed
