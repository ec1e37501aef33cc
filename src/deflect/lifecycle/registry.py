"""Which model + index version is active: the history of promotions in one JSON file (`model_registry_file`), so
`deflect models promote`, `deflect models rollback` and `deflect serve` agree on it."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from deflect.core.atomic import write_json_atomic
from deflect.core.errors import DataFormatError

REGISTRY_FORMAT: Literal["deflect-model-registry"] = "deflect-model-registry"


class RegistryError(RuntimeError):
    """A registry operation that cannot be done as asked (nothing to roll back to, no active entry)."""


class RegistryEntry(BaseModel):
    model_dir: str  # absolute, so a server started elsewhere finds it
    index_dir: str
    model_version: str
    promoted_at: datetime
    metrics: dict[str, float] = Field(default_factory=dict)  # measured at promotion
    data: str = ""  # what the metrics were measured on
    previous: int | None = None  # the entry that was active before this one: where a rollback returns
    note: Literal["baseline", "promoted"] = "promoted"


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

    def active(self) -> RegistryEntry | None:
        document = self.read()
        return None if document.active is None else document.entries[document.active]

    def promote(self, entry: RegistryEntry, baseline: RegistryEntry | None = None) -> RegistryEntry:
        """Make `entry` active. The first promotion also records `baseline` (what was served before the registry
        existed), so the first rollback has somewhere to go."""
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
        document = self.read()
        current, document.active = self._rollback_step(document)
        restored = document.entries[document.active]
        event = RegistryEvent(
            at=datetime.now(UTC), action="rollback", entry=document.active, model_version=restored.model_version
        )
        document.events.append(event)
        self._write(document)
        return document.entries[current], restored


def registry_model(registry_file: Path, explicit: bool) -> RegistryEntry | None:
    """What `deflect serve` serves from the registry: its active entry, unless a model or index was given
    explicitly (command line or environment) or nothing was promoted yet."""
    if explicit or not registry_file.is_file():
        return None
    return ModelRegistry(registry_file).active()
