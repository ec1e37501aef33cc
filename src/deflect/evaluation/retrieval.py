"""Article retrieval evaluation: Recall@k and MRR of the articles that answer each query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex
from deflect.retrieval.search import SearchOptions


@dataclass(frozen=True)
class RetrievalQuery:
    text: str
    relevant: frozenset[str]  # article ids that answer it
    locale: str | None = None


class RetrievalEvaluator:
    """Called with an index (and optionally an intent model for the intent boost), returns named metrics. The query
    vectors are encoded once, so one evaluator compares several search options on the same index cheaply."""

    def __init__(
        self,
        queries: Sequence[RetrievalQuery],
        name: str = "retrieval",
        k_values: Sequence[int] = (1, 3),
        options: SearchOptions | None = None,
    ):
        self.queries = [q for q in queries if q.relevant]
        self.name = name
        self.k_values = tuple(k_values)
        self.options = options or SearchOptions()
        self._vectors: np.ndarray | None = None

    def _query_vectors(self, index: ArticleIndex) -> np.ndarray:
        if self._vectors is None:
            self._vectors = index.encoder.encode([q.text for q in self.queries], "query", show_progress=True)
        return self._vectors

    def __call__(
        self, model: IntentModel | None, index: ArticleIndex | None = None, *, options: SearchOptions | None = None
    ) -> dict[str, Any]:
        if index is None:
            raise ValueError("retrieval is evaluated on an article index")
        options = options or self.options
        vectors = self._query_vectors(index)
        intents: list[dict[str, float] | None] = [None] * len(self.queries)
        if model is not None:
            predictions = model.predict_encoded([q.text for q in self.queries], vectors)
            intents = [dict(p.top_intents) for p in predictions]
        depth = max(self.k_values)
        reciprocal_ranks, hits_at = [], {k: 0 for k in self.k_values}
        for query, vector, intent_scores in zip(self.queries, vectors, intents, strict=True):
            ranked = [
                hit.article.id
                for hit in index.search(
                    query.text,
                    vector,
                    max(depth, 10),
                    locale=query.locale,
                    intent_scores=intent_scores,
                    options=options,
                )
            ]
            rank = next((i for i, article_id in enumerate(ranked, start=1) if article_id in query.relevant), None)
            reciprocal_ranks.append(1.0 / rank if rank else 0.0)
            for k in self.k_values:
                hits_at[k] += rank is not None and rank <= k
        metrics: dict[str, Any] = {f"recall@{k}": hits / len(self.queries) for k, hits in hits_at.items()}
        metrics["mrr@10"] = float(np.mean(reciprocal_ranks))
        metrics["queries"] = len(self.queries)
        return metrics
