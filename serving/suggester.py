"""The prediction path for one message: normalise → detect locale → encode once → classify → retrieve → decide."""

from __future__ import annotations

import threading

from deflect.data.text import detect_locale, normalize_text
from deflect.retrieval.index import ArticleIndex
from deflect.retrieval.search import SearchOptions
from deflect.serving.policy import Decision, DecisionPolicy
from deflect.serving.schemas import ArticleSuggestion, BotAnswer, IntentScore, SuggestResponse
from deflect.training.model import IntentModel

from deflect.settings import Settings


class Suggester:
    def __init__(self, model: IntentModel, index: ArticleIndex, settings: Settings):
        self.model = model
        self.index = index
        self.settings = settings
        self.policy = DecisionPolicy(
            answer_threshold=settings.answer_threshold
            if settings.answer_threshold is not None
            else model.answer_threshold,
            out_of_scope_threshold=model.out_of_scope_threshold,
            handoff_intents=frozenset(settings.handoff_intents),
        )
        self.search_options = SearchOptions(
            mode=settings.search_mode,
            fusion=settings.fusion,
            lexical_weight=settings.lexical_weight,
            intent_boost=settings.intent_boost,
        )
        self._encoder_lock = threading.Lock()  # the encoders are not documented as thread-safe

    @classmethod
    def load(cls, settings: Settings) -> Suggester:
        model = IntentModel.from_pretrained(settings.model_dir, threads=settings.threads)
        index = ArticleIndex.load(settings.index_dir, encoder=model.encoder)
        return cls(model, index, settings)

    def suggest(self, text: str, locale: str | None = None) -> SuggestResponse:
        text = normalize_text(text)
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
        intent_name = self.model.display_name(prediction.intent, locale)
        outcome = self.policy.decide(prediction, intent_name, hits)
        answer = None
        if outcome.decision is Decision.BOT_ANSWER:
            best = hits[0]
            answer = BotAnswer(text=best.passage, article_id=best.article.id, url=best.article.url)
        return SuggestResponse(
            locale=locale,  # type: ignore[arg-type]
            locale_detected=detected,
            intent=IntentScore(intent=prediction.intent, name=intent_name, confidence=prediction.confidence),
            alternatives=[
                IntentScore(intent=intent, name=self.model.display_name(intent, locale), confidence=score)
                for intent, score in prediction.top_intents
            ],
            out_of_scope=prediction.out_of_scope,
            articles=[
                ArticleSuggestion(
                    id=hit.article.id,
                    title=hit.article.title,
                    url=hit.article.url,
                    snippet=hit.snippet,
                    score=round(hit.score, 4),
                    locale=hit.article.locale,
                )
                for hit in hits
            ],
            decision=outcome.decision.value,
            reason_code=outcome.reason_code.value,
            reason=outcome.reason,
            answer=answer,
            model_version=self.model.version,
            index_version=self.index.version,
        )
