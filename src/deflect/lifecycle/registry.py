"""Which model + index version is active: the history of promotions in one JSON file (`model_registry_file`), so
`deflect models promote`, `deflect models rollback` and `deflect serve` agree on it.

An entry names the index root it was promoted with (`index_dir`) and the index version that root served then
(`index_version`). Index versions are immutable (`deflect.retrieval.versions`): an admin article change writes a
new version under the root and points the root at it; `record_index_change` then records that version for the
active entry (`served_index`) and prunes old versions of the root, never one an entry names. Documents written
before these fields existed load unchanged (the fields are optional).
"""

from __future__ import annotations

import fcntl
import logging
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from deflect.core.artifacts import ArtifactError, read_manifest
from deflect.core.atomic import write_json_atomic
from deflect.core.errors import DataFormatError
from deflect.retrieval.index import INDEX_FORMAT, INDEX_FORMAT_VERSION
from deflect.retrieval.versions import KEEP_VERSIONS, index_root, prune, served_folder, version_folder

logger = logging.getLogger(__name__)
_writing = threading.Lock()  # one read-modify-write of a registry file at a time in this process

REGISTRY_FORMAT: Literal["deflect-model-registry"] = "deflect-model-registry"


class RegistryError(RuntimeError):
    """A registry operation that cannot be done as asked (nothing to roll back to, no active entry)."""


class ServedIndex(BaseModel):
    """The index version an entry's root serves since the last article change made while the entry was active."""

    root: str  # absolute: the index root whose pointer names `folder`
    folder: str  # absolute: the version folder (immutable)
    index_version: str
    changed_at: datetime


class RegistryEntry(BaseModel):
    model_dir: str  # absolute, so a server started elsewhere finds it
    index_dir: str
    model_version: str
    promoted_at: datetime
    metrics: dict[str, float] = Field(default_factory=dict)  # measured at promotion
    data: str = ""  # what the metrics were measured on
    previous: int | None = None  # the entry that was active before this one: where a rollback returns
    note: Literal["baseline", "promoted"] = "promoted"
    index_version: str | None = None  # the version `index_dir` served at promotion (None: recorded before this)
    served_index: ServedIndex | None = None  # the newest version, after article changes while active

    @property
    def serving_index_dir(self) -> str:
        """The folder to serve for this entry: the root that has its newest articles (for an entry promoted with
        a version folder, that folder until an article change, its root after), else `index_dir`."""
        return self.served_index.root if self.served_index is not None else self.index_dir

    def index_folders(self) -> set[Path]:
        """The index folders this entry names: the one it was promoted with (and the version that root served
        then) and the one it serves now."""
        folders = {Path(self.index_dir)}
        if self.index_version is not None and (
            promoted := version_folder(index_root(self.index_dir), self.index_version)
        ):
            folders.add(promoted)
        if self.served_index is not None:
            folders.add(Path(self.served_index.folder))
        return folders


class RegistryEvent(BaseModel):
    at: datetime
    action: Literal["promote", "rollback"]
    entry: int
    model_version: str


class RegistryDocument(BaseModel):
    format: Literal["deflect-model-registry"] = REGISTRY_FORMAT
    format_version: Literal[1] = 1
    active: int | None = None
    entries: list[RegistryEntry] = Field(default_factory=list)
    events: list[RegistryEvent] = Field(default_factory=list)

    @model_validator(mode="after")
    def _numbers_point_at_entries(self) -> RegistryDocument:
        numbers = [self.active] + [entry.previous for entry in self.entries]
        if any(number is not None and not 0 <= number < len(self.entries) for number in numbers):
            raise ValueError(f"an entry number is out of range (there are {len(self.entries)} entries)")
        return self


def finite_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """JSON has no NaN: a metric the data could not measure is left out."""
    return {
        key: float(value) for key, value in metrics.items() if isinstance(value, int | float) and math.isfinite(value)
    }


def served_index_version(index_dir: str | Path) -> str | None:
    """The version of the index a folder serves (its pointer's, else its own), None when it has no index."""
    try:
        return str(read_manifest(served_folder(index_dir), INDEX_FORMAT, INDEX_FORMAT_VERSION)["version"])
    except (ArtifactError, OSError, KeyError):
        return None


def new_entry(
    model_dir: str | Path, index_dir: str | Path, model_version: str, metrics: dict[str, float], data: str
) -> RegistryEntry:
    return RegistryEntry(
        model_dir=str(Path(model_dir).resolve()),
        index_dir=str(Path(index_dir).resolve()),
        model_version=model_version,
        promoted_at=datetime.now(UTC),
        metrics=finite_metrics(metrics),
        data=data,
        index_version=served_index_version(index_dir),
    )


class ModelRegistry:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    def read(self) -> RegistryDocument:
        """The registry, empty when the file does not exist yet."""
        if not self.path.is_file():
            return RegistryDocument()
        try:
            return RegistryDocument.model_validate_json(self.path.read_bytes())
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the document"
            raise DataFormatError(self.path, f"not a model registry ({where}: {first['msg']})") from None

    def _write(self, document: RegistryDocument) -> None:
        write_json_atomic(self.path, document.model_dump(mode="json"))

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """Held around a read-modify-write, so a promotion and a server recording an article change (threads or
        processes) never drop each other's write."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _writing, self.path.with_name(f".{self.path.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def active(self) -> RegistryEntry | None:
        document = self.read()
        return None if document.active is None else document.entries[document.active]

    def promote(self, entry: RegistryEntry, baseline: RegistryEntry | None = None) -> RegistryEntry:
        """Make `entry` active. The first promotion also records `baseline` (what was served before the registry
        existed), so the first rollback has somewhere to go."""
        with self._changing():
            document = self.read()
            if document.active is None and baseline is not None:
                document.entries.append(baseline.model_copy(update={"note": "baseline"}))
                document.active = len(document.entries) - 1
            document.entries.append(entry.model_copy(update={"previous": document.active, "note": "promoted"}))
            document.active = len(document.entries) - 1
            document.events.append(
                RegistryEvent(
                    at=entry.promoted_at, action="promote", entry=document.active, model_version=entry.model_version
                )
            )
            self._write(document)
        return document.entries[document.active]

    def previous(self) -> RegistryEntry:
        """The entry a rollback would make active: the one active before the current one."""
        document = self.read()
        _, previous = self._rollback_step(document)
        return document.entries[previous]

    def _rollback_step(self, document: RegistryDocument) -> tuple[int, int]:
        """(the active entry's number, the number of the entry that was active before it)"""
        if document.active is None:
            raise RegistryError(f"{self.path}: nothing has been promoted yet, so there is nothing to roll back")
        current = document.entries[document.active]
        if current.previous is None:
            raise RegistryError(
                f"{self.path}: model {current.model_version} is the first recorded one; there is nothing before it"
            )
        return document.active, current.previous

    def rollback(self) -> tuple[RegistryEntry, RegistryEntry]:
        """Make the entry that was active before the current one active again; returns (left, now active)."""
        with self._changing():
            document = self.read()
            current, document.active = self._rollback_step(document)
            restored = document.entries[document.active]
            event = RegistryEvent(
                at=datetime.now(UTC), action="rollback", entry=document.active, model_version=restored.model_version
            )
            document.events.append(event)
            self._write(document)
        return document.entries[current], restored

    def record_index_change(self, index_dir: str | Path) -> RegistryEntry | None:
        """Record the version the index root of `index_dir` serves now for the active entry, when that entry
        serves this root; returns the updated entry, else None (and the file is left alone)."""
        root = index_root(index_dir).resolve()
        with self._changing():
            document = self.read()
            if document.active is None:
                return None
            entry = document.entries[document.active]
            if index_root(entry.serving_index_dir).resolve() != root:
                return None
            folder = served_folder(root).resolve()
            version = served_index_version(folder)
            if version is None:
                return None
            entry.served_index = ServedIndex(
                root=str(root), folder=str(folder), index_version=version, changed_at=datetime.now(UTC)
            )
            self._write(document)
        return entry

    def index_folders(self) -> set[Path]:
        """Every index folder an entry names (promoted with, or serving): never pruned."""
        return {folder.resolve() for entry in self.read().entries for folder in entry.index_folders()}


def record_index_change(registry_file: Path, index_dir: str | Path, keep: int = KEEP_VERSIONS) -> None:
    """After an article change saved a new version under the index root of `index_dir`: record it for the active
    entry if that entry serves the root, then prune the root's old versions, keeping the newest `keep` and every
    folder the registry names. A failure here is logged, not raised: the change itself is saved and served."""
    registry = ModelRegistry(registry_file)
    try:
        if registry_file.is_file():
            registry.record_index_change(index_dir)
        prune(index_dir, keep, registry.index_folders())
    except (OSError, ArtifactError, DataFormatError):
        logger.exception("recording the article change of %s in %s failed", index_dir, registry_file)


def registry_model(registry_file: Path, explicit: bool) -> RegistryEntry | None:
    """What `deflect serve` serves from the registry: its active entry, with `index_dir` the folder that serves
    its newest articles (`RegistryEntry.serving_index_dir`), unless a model or index was given explicitly (command
    line or environment) or nothing was promoted yet."""
    if explicit or not registry_file.is_file():
        return None
    entry = ModelRegistry(registry_file).active()
    return None if entry is None else entry.model_copy(update={"index_dir": entry.serving_index_dir})
