"""An encoder wrapper that remembers every text it has encoded, so benchmark runs that train several models on
the same data encode each text once. Same reference and vectors as the wrapped encoder."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from deflect.core.encoder import Encoder, TextKind


class CachedEncoder:
    def __init__(self, encoder: Encoder):
        self.encoder = encoder
        self.reference = encoder.reference
        self.dim = encoder.dim
        self._vectors: dict[tuple[TextKind, str], np.ndarray] = {}

    def remember(self, texts: Sequence[str], vectors: np.ndarray, kind: TextKind = "query") -> None:
        for text, vector in zip(texts, vectors, strict=True):
            self._vectors[(kind, text)] = vector

    def encode(self, texts: Sequence[str], kind: TextKind = "query", *, show_progress: bool = False) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if (kind, t) not in self._vectors))
        if missing:
            self.remember(missing, self.encoder.encode(missing, kind, show_progress=show_progress), kind)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._vectors[(kind, text)] for text in texts])
