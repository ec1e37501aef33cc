"""Head features: the encoder's sentence embedding, optionally beside character n-gram TF-IDF of the text.

Character n-grams catch what a frozen small encoder blurs: typos, Korean spacing variants, product terms.
Fitting uses scikit-learn's TfidfVectorizer; transforming is done here with numpy, the same arithmetic, so a serving
process does not import scikit-learn (about 190 MB of memory with the pandas it pulls in)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack

CHAR_NGRAMS_FILE = "char_ngrams.json"
_WHITE_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True)
class FeatureSettings:
    embedding_weight: float = 2.0  # balances the dense block against the sparse one under one L2 penalty
    char_ngrams: bool = True
    ngram_range: tuple[int, int] = (1, 4)


class CharNgrams:
    """TF-IDF over lower-cased character n-grams within word boundaries (scikit-learn's `char_wb` analyser,
    sublinear tf, l2 norm), saved as JSON (no pickles)."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray, ngram_range: tuple[int, int]):
        self.vocabulary = vocabulary
        self.idf = np.asarray(idf, dtype=np.float32)
        self.ngram_range = ngram_range

    @classmethod
    def fit(cls, texts: Sequence[str], ngram_range: tuple[int, int]) -> CharNgrams:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, sublinear_tf=True, dtype=np.float32)
        vectorizer.fit(texts)
        return cls({str(g): int(i) for g, i in vectorizer.vocabulary_.items()}, vectorizer.idf_, ngram_range)

    @property
    def size(self) -> int:
        return len(self.vocabulary)

    def ngrams(self, text: str) -> list[str]:
        """scikit-learn's `char_wb` n-grams of the lower-cased text: each word padded with one space either side."""
        low, high = self.ngram_range
        grams = []
        for word in _WHITE_SPACES.sub(" ", text.lower()).split():
            padded = f" {word} "
            for n in range(low, high + 1):
                if len(padded) <= n:  # a word shorter than n counts once, whole
                    grams.append(padded)
                    break
                grams.extend(padded[start : start + n] for start in range(len(padded) - n + 1))
        return grams

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        indptr: list[int] = [0]
        indices: list[int] = []
        counts: list[int] = []
        for text in texts:
            counted = Counter(i for i in map(self.vocabulary.get, self.ngrams(text)) if i is not None)
            present = sorted(counted)
            indices.extend(present)
            counts.extend(counted[c] for c in present)
            indptr.append(len(indices))
        columns = np.asarray(indices, dtype=np.int32)
        values = (np.log(np.asarray(counts, dtype=np.float32)) + 1.0) * self.idf[columns]
        rows = np.repeat(np.arange(len(texts)), np.diff(indptr))
        norms = np.sqrt(np.bincount(rows, weights=values.astype(np.float64) ** 2, minlength=len(texts)))
        norms[norms == 0.0] = 1.0
        values = (values / norms[rows]).astype(np.float32)
        return csr_matrix((values, columns, np.asarray(indptr)), shape=(len(texts), self.size))

    def save(self, folder: Path) -> None:
        document = {
            "ngram_range": list(self.ngram_range),
            "vocabulary": sorted(self.vocabulary, key=self.vocabulary.__getitem__),
            "idf": [float(v) for v in self.idf],
        }
        (folder / CHAR_NGRAMS_FILE).write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> CharNgrams:
        document = json.loads((folder / CHAR_NGRAMS_FILE).read_text(encoding="utf-8"))
        low, high = document["ngram_range"]
        vocabulary = {gram: i for i, gram in enumerate(document["vocabulary"])}
        return cls(vocabulary, np.asarray(document["idf"], dtype=np.float32), (int(low), int(high)))


def head_features(
    embeddings: np.ndarray, texts: Sequence[str], settings: FeatureSettings, char_ngrams: CharNgrams | None
) -> np.ndarray | csr_matrix:
    dense = np.atleast_2d(embeddings) * settings.embedding_weight
    if char_ngrams is None:
        return dense
    return hstack([csr_matrix(dense), char_ngrams.transform(texts)], format="csr")
