"""The on-disk contract of a model artifact: a folder with a manifest that loaders check."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from deflect.training.encoders import Encoder, load_encoder, onnx_encoder

import deflect

MODEL_FORMAT = "deflect-intent-model"
MODEL_FORMAT_VERSION = 2
MANIFEST = "manifest.json"
ONNX_FOLDER = "onnx"  # the encoder exported by `deflect optimize`, inside the model artifact
ONNX_MANIFEST = "check.json"
EncoderRuntime = Literal["auto", "native", "onnx"]


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


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """Write an artifact into a sibling folder and swap it in whole, so a crash never leaves half an artifact."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)


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


def artifact_encoder(
    folder: Path,
    manifest: dict[str, Any],
    encoder: Encoder | None,
    threads: int | None,
    runtime: EncoderRuntime = "auto",
) -> Encoder:
    """The encoder an artifact was built with, or a check that the given one is it. Without one given: its
    ONNX export when `deflect optimize` made one (runtime auto or onnx), else the encoder loaded by its reference."""
    reference = manifest["encoder"]["reference"]
    if encoder is None:
        exported = folder / ONNX_FOLDER
        if runtime != "native" and (exported / ONNX_MANIFEST).is_file():
            try:
                return onnx_encoder(exported, reference, threads)
            except (OSError, ValueError) as error:
                message = f"{exported}: unusable ONNX export ({error}); run `deflect optimize --force` again"
                raise ArtifactError(message) from None
        if runtime == "onnx":
            raise ArtifactError(f"{folder}: has no ONNX export; run `deflect optimize --model {folder}` first")
        return load_encoder(reference, threads=threads)
    if encoder.reference != reference:
        raise ArtifactError(
            f"{folder}: built with encoder '{reference}', but was given '{encoder.reference}'; "
            "use the same encoder or rebuild it"
        )
    return encoder
