"""Head features: the encoder's sentence embedding, optionally beside character n-gram TF-IDF of the text.

Character n-grams catch what a frozen small encoder blurs: typos, Korean spacing variants, product terms."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer

CHAR_NGRAMS_FILE = "char_ngrams.json"


@dataclass(frozen=True)
class FeatureSettings:
    embedding_weight: float = 2.0  # balances the dense block against the sparse one under one L2 penalty
    char_ngrams: bool = True
    ngram_range: tuple[int, int] = (1, 4)


class CharNgrams:
    """TF-IDF over lower-cased character n-grams within word boundaries, saved as JSON (no pickles)."""

    def __init__(self, vectorizer: TfidfVectorizer):
        self.vectorizer = vectorizer

    @classmethod
    def fit(cls, texts: Sequence[str], ngram_range: tuple[int, int]) -> CharNgrams:
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, sublinear_tf=True, dtype=np.float32)
        vectorizer.fit(texts)
        return cls(vectorizer)

    @property
    def size(self) -> int:
        return len(self.vectorizer.vocabulary_)

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        return self.vectorizer.transform(texts)

    def save(self, folder: Path) -> None:
        vocabulary = sorted(self.vectorizer.vocabulary_, key=self.vectorizer.vocabulary_.__getitem__)
        document = {
            "ngram_range": list(self.vectorizer.ngram_range),
            "vocabulary": vocabulary,
            "idf": [float(v) for v in self.vectorizer.idf_],
        }
        (folder / CHAR_NGRAMS_FILE).write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> CharNgrams:
        document = json.loads((folder / CHAR_NGRAMS_FILE).read_text(encoding="utf-8"))
        vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=tuple(document["ngram_range"]), sublinear_tf=True, dtype=np.float32
        )
        vectorizer.vocabulary_ = {gram: i for i, gram in enumerate(document["vocabulary"])}
        vectorizer.idf_ = np.asarray(document["idf"], dtype=np.float32)
        return cls(vectorizer)


def head_features(
    embeddings: np.ndarray, texts: Sequence[str], settings: FeatureSettings, char_ngrams: CharNgrams | None
) -> np.ndarray | csr_matrix:
    dense = np.atleast_2d(embeddings) * settings.embedding_weight
    if char_ngrams is None:
        return dense
    return hstack([csr_matrix(dense), char_ngrams.transform(texts)], format="csr")
