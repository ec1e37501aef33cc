"""The on-disk contract of a model artifact: a folder with a manifest that loaders check."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import deflect
from deflect.core.encoder import Encoder

MODEL_FORMAT = "deflect-intent-model"
MODEL_FORMAT_VERSION = 2
MANIFEST = "manifest.json"
ONNX_FOLDER = "onnx"  # the encoder exported by `deflect optimize`, inside the model artifact
ONNX_MANIFEST = "check.json"


class ArtifactError(ValueError):
    """An artifact folder that is missing, incomplete, of another format or built with another encoder."""


def read_manifest(folder: str | Path, expected_format: str, expected_version: int) -> dict[str, Any]:
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise ArtifactError(f"{folder}: not an artifact folder (no {MANIFEST}); build it first")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ArtifactError(f"{path}: unreadable manifest ({error.msg})") from None
    if manifest.get("format") != expected_format:
        raise ArtifactError(f"{folder}: is a '{manifest.get('format')}' artifact, expected '{expected_format}'")
    if manifest.get("format_version") != expected_version:
        raise ArtifactError(
            f"{folder}: format version {manifest.get('format_version')} is not supported "
            f"(this Deflect reads version {expected_version}); rebuild it"
        )
    return manifest


def write_json(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def manifest_fingerprint(folder: Path) -> str | None:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError):
        return None


def manifest_header(artifact_format: str, format_version: int, fingerprint: str, encoder: Encoder) -> dict[str, Any]:
    """The fields every artifact manifest starts with: what, which version, when, from what, which encoder."""
    created = datetime.now(UTC)
    return {
        "format": artifact_format,
        "format_version": format_version,
        "version": f"{created:%Y%m%d%H%M%S}-{fingerprint[:8]}",
        "created_at": created.isoformat(timespec="seconds"),
        "deflect_version": deflect.__version__,
        "fingerprint": fingerprint,
        "encoder": {"reference": encoder.reference, "dim": encoder.dim},
    }
