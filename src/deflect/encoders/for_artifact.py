"""The encoder an artifact (a model or an index folder) was built with, as its manifest names it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from deflect.core.artifacts import ONNX_FOLDER, ONNX_MANIFEST, ArtifactError
from deflect.core.encoder import Encoder
from deflect.encoders.models import load_encoder
from deflect.encoders.onnx_runtime import onnx_encoder

EncoderRuntime = Literal["auto", "native", "onnx"]


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
