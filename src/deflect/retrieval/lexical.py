"""BM25 over chunk tokens (bm25s), saved beside the dense vectors."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np

from deflect.retrieval.tokenizer import lexical_tokenizer

LEXICAL_FOLDER = "bm25"


class LexicalIndex:
    def __init__(self, bm25: bm25s.BM25, size: int):
        self.bm25 = bm25
        self.size = size

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        tokenize = lexical_tokenizer()
        bm25 = bm25s.BM25()
        bm25.index([tokenize(text) or [""] for text in texts], show_progress=False)
        return cls(bm25, len(texts))

    def scores(self, text: str) -> np.ndarray:
        """A BM25 score for every chunk (zero where no query token occurs)."""
        tokens = lexical_tokenizer()(text)
        known = [token for token in tokens if token in self.bm25.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float32)

    def save(self, folder: Path) -> None:
        self.bm25.save(str(folder / LEXICAL_FOLDER))

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        return cls(bm25s.BM25.load(str(folder / LEXICAL_FOLDER)), size)
