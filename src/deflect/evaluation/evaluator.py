"""One calling convention for every evaluator, as in sentence-transformers: built once with its labelled data, then
called with what is evaluated — an intent model, and the article index served with it — it returns a dict of named
metrics. `deflect eval`, the HTML report, the promotion gate and the benchmarks are compositions of these."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex

Metrics = dict[str, Any]


class Evaluator(Protocol):
    name: str

    def __call__(self, model: IntentModel | None, index: ArticleIndex | None = None) -> Metrics: ...


class LatencyEvaluator:
    """Single-message latency as the API sees it: encode and classify (and search, with an index), one message at a
    time. Like the API (which warms up before serving), the first message runs once untimed, so lazy set-up is not
    counted."""

    def __init__(self, texts: Sequence[str], name: str = "latency"):
        self.texts = list(texts)
        self.name = name

    def __call__(self, model: IntentModel | None, index: ArticleIndex | None = None) -> Metrics:
        if model is None:
            raise ValueError("latency is measured on an intent model")
        timings = []
        for text in [*self.texts[:1], *self.texts]:
            started = time.perf_counter()
            vector = model.encode([text])
            prediction = model.predict_encoded([text], vector)[0]
            if index is not None:
                index.search(text, vector[0], 3, intent_scores=dict(prediction.top_intents))
            timings.append((time.perf_counter() - started) * 1000)
        values = np.array(timings[1:] or [np.nan])
        return {f"{name}_ms": float(np.percentile(values, q)) for name, q in (("p50", 50), ("p95", 95), ("p99", 99))}
