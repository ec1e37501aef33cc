"""Vectors of stored customer texts for the review views that group them by meaning (unmet needs, questions with no
article), kept for the model + index pair being served: those views are opened often and their messages change
little between visits."""

from __future__ import annotations

import threading

import numpy as np

from deflect.conversation.suggester import Suggester


class EmbeddingCache:
    """Vectors of texts and the centring vector (the mean embedding of the served articles' titles), for the pair
    being served; emptied when it swaps or past `capacity` texts."""

    def __init__(self, capacity: int = 20_000):
        self.capacity = capacity
        self._lock = threading.Lock()
        self._suggester: Suggester | None = None
        self._reference: np.ndarray | None = None
        self._vectors: dict[str, np.ndarray] = {}

    def vectors(self, suggester: Suggester, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The texts' vectors and the mean embedding of the served articles' titles."""
        with self._lock:
            if self._suggester is not suggester or self._reference is None:
                titles = [article.title for article in suggester.index.articles.values()]
                self._suggester, self._vectors = suggester, {}
                self._reference = suggester.embed(titles).mean(axis=0)
            missing = list(dict.fromkeys(text for text in texts if text not in self._vectors))
            if missing:
                if len(self._vectors) + len(missing) > self.capacity:
                    self._vectors = {}
                self._vectors.update(zip(missing, suggester.embed(missing), strict=True))
            return np.stack([self._vectors[text] for text in texts]), self._reference


embeddings = EmbeddingCache()  # one per process, shared by the views
