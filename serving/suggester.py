"""The prediction path for one message: normalise → detect locale → encode once → classify → retrieve articles."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from deflect.data.text import detect_locale, normalize_text
from deflect.retrieval.index import ArticleHit, ArticleIndex
from deflect.retrieval.search import SearchOptions
from deflect.training.model import IntentModel, IntentPrediction

from deflect.settings import Settings


@dataclass(frozen=True)
class Analysis:
    text: str
    locale: str
    locale_detected: bool
    prediction: IntentPrediction
    intent_name: str
    hits: list[ArticleHit]


class Suggester:
    """One loaded model and index. Repeated texts (typeahead sends every prefix; widgets retry) are answered from a
    bounded cache keyed by text and locale, emptied whenever the articles change."""

    def __init__(self, model: IntentModel, index: ArticleIndex, settings: Settings):
        self.model = model
        self.index = index
        self.settings = settings
        self.search_options = SearchOptions(
            mode=settings.search_mode,
            fusion=settings.fusion,
            lexical_weight=settings.lexical_weight,
            intent_boost=settings.intent_boost,
        )
        self._encoder_lock = threading.Lock()  # the encoders are not documented as thread-safe
        self._cache: OrderedDict[tuple[str, str | None], Analysis] = OrderedDict()
        self._cache_lock = threading.Lock()

    @classmethod
    def load(cls, settings: Settings) -> Suggester:
        model = IntentModel.from_pretrained(settings.model_dir, threads=settings.threads)
        index = ArticleIndex.load(settings.index_dir, encoder=model.encoder)
        return cls(model, index, settings)

    def analyse(self, text: str, locale: str | None = None) -> Analysis:
        text = normalize_text(text)
        key = (text, locale)
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        analysis = self._analyse(text, locale)
        with self._cache_lock:
            self._cache[key] = analysis
            while len(self._cache) > self.settings.analysis_cache_size:
                self._cache.popitem(last=False)
        return analysis

    def _analyse(self, text: str, locale: str | None) -> Analysis:
        detected = locale is None
        locale = locale or detect_locale(text, self.settings.fallback_locale)
        with self._encoder_lock:
            vector = self.model.encode([text])[0]
        prediction = self.model.predict_encoded([text], vector)[0]
        hits = self.index.search(
            text,
            vector,
            self.settings.suggestions,
            locale=locale,
            fallback_locale=self.settings.fallback_locale,
            intent_scores=None if prediction.out_of_scope else dict(prediction.top_intents),
            options=self.search_options,
        )
        return Analysis(text, locale, detected, prediction, self.model.display_name(prediction.intent, locale), hits)

    def forget_cached(self) -> None:
        with self._cache_lock:
            self._cache.clear()
