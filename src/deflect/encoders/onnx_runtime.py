"""Encoders exported by `deflect optimize` (deflect.export), run by ONNX Runtime."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from deflect.core.encoder import Encoder, TextKind
from deflect.encoders.compact_tokenizer import CompactTokenizer, has_compact_tokenizer
from deflect.encoders.models import COMBINE, ConcatenatedEncoder, batches

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
        for batch in batches(ordered, self.batch_size, show_progress, f"encoding ({self.reference}, onnx)"):
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
