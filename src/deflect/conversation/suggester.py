"""The prediction path for one message: normalise → detect locale → encode once → classify → retrieve articles."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deflect.conversation.batcher import MicroBatcher
from deflect.core.records import Article
from deflect.core.settings import Settings
from deflect.core.text import detect_locale, normalize_text
from deflect.intent.context import SettledIntent, joined_vector
from deflect.intent.model import IntentModel, IntentPrediction
from deflect.retrieval.index import ArticleHit, ArticleIndex, IndexChanges
from deflect.retrieval.search import SearchOptions
from deflect.retrieval.versions import index_root


@dataclass(frozen=True)
class MessageReading:
    text: str  # normalised
    vector: np.ndarray  # the message's sentence vector
    prediction: IntentPrediction  # the message read alone


@dataclass(frozen=True)
class Analysis:
    text: str
    locale: str
    locale_detected: bool
    prediction: IntentPrediction
    intent_name: str
    hits: list[ArticleHit]
    vector: np.ndarray  # the message's sentence vector


class Suggester:
    """One loaded model and index. Concurrent requests' texts are encoded in shared batches; repeated texts
    (widgets retry, typeahead resends a prefix after a deletion) are answered from a bounded cache keyed by text and
    locale, emptied whenever the articles change."""

    def __init__(self, model: IntentModel, index: ArticleIndex, settings: Settings, index_dir: Path | None = None):
        self.model = model
        self.index = index
        self.settings = settings
        # where article changes are saved, as new versions of this index root (or of the root of the version
        # folder it is); after the first change, the root
        self.index_dir = index_dir or settings.index_dir
        self.search_options = SearchOptions(
            mode=settings.search_mode,
            fusion=settings.fusion,
            lexical_weight=settings.lexical_weight,
            intent_boost=settings.intent_boost,
        )
        self._encoder_lock = threading.Lock()  # the encoders are not documented as thread-safe
        self._index_lock = threading.Lock()  # searches never see an article update half-applied
        self._cache: OrderedDict[tuple[str, str | None], Analysis] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._batcher = MicroBatcher(self._classify_batch, max_batch=settings.max_batch_size, name="classifier")

    @classmethod
    def load(cls, settings: Settings, model_dir: Path | None = None, index_dir: Path | None = None) -> Suggester:
        """The configured model and index, or the given ones; the index must use the model's encoder. An index
        root serves its newest version (the one its pointer names); a version folder serves itself."""
        model = IntentModel.from_pretrained(
            model_dir or settings.model_dir, threads=settings.threads, runtime=settings.encoder_runtime
        )
        index_dir = index_dir or settings.index_dir
        index = ArticleIndex.load(index_dir, encoder=model.encoder)
        return cls(model, index, settings, index_dir)

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
        vector, prediction = self._batcher.submit(text)
        return self._analysis(MessageReading(text, vector, prediction), locale, prediction, text, vector)

    def analyse_batch(self, texts: list[str], locale: str | None = None) -> list[Analysis]:
        """Many messages read together as one of the server's batches reads them: one encoder and classifier call
        for all, then each message's search; no cache. What the load benchmark measures the server against."""
        normalized = [normalize_text(text) for text in texts]
        read = self._classify_batch(normalized)
        return [
            self._analysis(MessageReading(text, vector, prediction), locale, prediction, text, vector)
            for text, (vector, prediction) in zip(normalized, read, strict=True)
        ]

    def read(self, text: str) -> MessageReading:
        """The message encoded and classified alone: one encoder pass (batched with concurrent requests), no
        search and no cache."""
        text = normalize_text(text)
        vector, prediction = self._batcher.submit(text)
        return MessageReading(text, vector, prediction)

    def analyse_in_context(self, message: MessageReading, locale: str | None, settled: SettledIntent) -> Analysis:
        """A message read with the conversation so far (deflect.intent.context): alone, and joined to the previous
        turn (its vector from the conversation, or encoded again when the conversation did not keep it). Where the
        two readings disagree, the articles are searched for the joined text, which names the topic. Without a
        context gate in the model, or when the message alone is clear enough to be read alone, as `analyse`
        reads it."""
        alone = message.prediction
        if self.model.reads_alone(alone):
            return self._analysis(message, locale, alone, message.text, message.vector)
        previous = settled.previous_vector
        if previous is None:
            previous, _ = self._batcher.submit(normalize_text(settled.previous_text))
        joined = normalize_text(f"{settled.previous_text} {message.text}")
        joined_embedding = joined_vector(message.vector, previous)
        prediction = self.model.read_in_context(message.text, alone, joined, joined_embedding, settled)
        if prediction.intent != alone.intent or prediction.out_of_scope != alone.out_of_scope:
            return self._analysis(message, locale, prediction, joined, joined_embedding)
        return self._analysis(message, locale, prediction, message.text, message.vector)

    def _analysis(
        self,
        message: MessageReading,
        locale: str | None,
        prediction: IntentPrediction,
        search_text: str,
        search_vector: np.ndarray,
    ) -> Analysis:
        detected = locale is None
        locale = locale or detect_locale(message.text, self.settings.fallback_locale)
        intents = None if prediction.out_of_scope else dict(prediction.top_intents)
        hits = self._search(search_text, search_vector, locale, intents)
        name = self.model.display_name(prediction.intent, locale)
        return Analysis(message.text, locale, detected, prediction, name, hits, message.vector)

    def analyse_as(self, text: str, intent: str, locale: str, vector: np.ndarray | None = None) -> Analysis:
        """`text` read as the customer said they meant it (an option they chose): `intent` for certain, and the
        articles for the text with that intent's articles first. `vector`: the text's, when the conversation kept
        it (else it is encoded)."""
        text = normalize_text(text)
        if vector is None:
            vector, _ = self._batcher.submit(text)
        prediction = IntentPrediction(intent, 1.0, False, [(intent, 1.0)], in_scope_score=1.0)
        hits = self._search(text, vector, locale, {intent: 1.0})
        hits.sort(key=lambda hit: intent not in hit.article.intents)  # stable: the chosen intent's articles first
        return Analysis(text, locale, False, prediction, self.model.display_name(intent, locale), hits, vector)

    def _search(
        self, text: str, vector: np.ndarray, locale: str, intent_scores: dict[str, float] | None
    ) -> list[ArticleHit]:
        with self._index_lock:
            return self.index.search(
                text,
                vector,
                self.settings.suggestions,
                locale=locale,
                fallback_locale=self.settings.fallback_locale,
                intent_scores=intent_scores,
                options=self.search_options,
            )

    def _classify_batch(self, texts: list[str]) -> list[tuple[np.ndarray, IntentPrediction]]:
        """Encode and classify concurrent requests' texts together (one encoder call, one head and distance
        computation for the batch); int8 activations are quantised per batch, so a vector can differ from the one
        computed alone at the level of that rounding."""
        with self._encoder_lock:
            vectors = self.model.encode(texts)
        return list(zip(vectors, self.model.predict_encoded(texts, vectors), strict=True))

    def embed(self, texts: list[str]) -> np.ndarray:
        """Sentence vectors of many texts (the review page's clustering), beside the request batches."""
        with self._encoder_lock:
            return self.model.encode([normalize_text(text) for text in texts])

    def close(self) -> None:
        """Stop batching (requests still running on this pair encode on their own); the service calls it when it
        swaps another pair in."""
        self._batcher.close()

    def forget_cached(self) -> None:
        with self._cache_lock:
            self._cache.clear()

    def upsert_article(self, article: Article) -> IndexChanges:
        changes = self._apply(lambda articles: {**articles, article.id: article})
        assert changes is not None  # an upsert always has an article set to apply
        return changes

    def delete_article(self, article_id: str) -> IndexChanges | None:
        return self._apply(
            lambda articles: {k: v for k, v in articles.items() if k != article_id} if article_id in articles else None
        )

    def _apply(self, change: Callable[[dict[str, Article]], dict[str, Article] | None]) -> IndexChanges | None:
        """Update the served index in memory (only the changed article is embedded) and save it as a new version
        of the index root, which then serves it, so a restart serves the same articles; no saved version is
        modified. If saving fails, the index is loaded again as the disk serves it (the previous version, unless
        the pointer had switched) and the error raised. Cached analyses are dropped. `change` reads the current
        articles under the same lock, so concurrent admin changes never overwrite each other; None from it means
        nothing to change."""
        with self._encoder_lock, self._index_lock:
            articles = change(self.index.articles)
            if articles is None:
                return None
            try:
                changes = self.index.apply(list(articles.values()), source="admin API")
                self.index.save_version(self.index_dir)
            except Exception:
                self.index = ArticleIndex.load(self.index_dir, encoder=self.index.encoder)
                self.forget_cached()
                raise
            self.index_dir = index_root(self.index_dir)
        self.forget_cached()
        return changes
