"""The encoder interface every layer codes against: texts in, L2-normalised vectors out. Implementations live in
`deflect.encoders`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

import numpy as np

TextKind = Literal["query", "passage"]


class Encoder(Protocol):
    reference: str
    dim: int

    def encode(self, texts: Sequence[str], kind: TextKind = "query", *, show_progress: bool = False) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...
