"""The conversation side of the API: a message's analysis plus what the conversation says (person requests,
frustration, feedback so far) → a decision, a bot answer, a route for handoffs; feedback; the handoff package."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from deflect.api.schemas import (
    ArticleSuggestion,
    BotAnswer,
    FeedbackRequest,
    FeedbackResponse,
    FrustrationScore,
    HandoffPackage,
    HandoffRoute,
    IntentScore,
    ShownArticle,
    SuggestRequest,
    SuggestResponse,
    TranscriptTurn,
    TypeaheadRequest,
    TypeaheadResponse,
)
from deflect.api.webhook import WebhookDelivery
from deflect.conversation.answers import AnswerTemplate, AnswerTemplates
from deflect.conversation.metrics import ServiceMetrics
from deflect.conversation.pii import redact
from deflect.conversation.policy import ConversationSignals, Decision, DecisionPolicy
from deflect.conversation.routing import HandoffRouter, Route
from deflect.conversation.signals import FrustrationDetector, asks_for_person
from deflect.conversation.state import (
    Conversation,
    ConversationStore,
    FeedbackEvent,
    HistoryEvent,
    SuggestionEvent,
)
from deflect.conversation.suggester import Analysis, Suggester
from deflect.core.settings import Settings
from deflect.lifecycle.shadow import ShadowJob, ShadowScorer
from deflect.retrieval.index import ArticleHit
from deflect.store.events import Deleted, EventStore, SuggestionRecord
from deflect.store.review import ReviewStore, new_queue_item


class UnknownSuggestion(LookupError):
    pass


class UnknownConversation(LookupError):
    pass


@dataclass(frozen=True)
class Active:
    """The model and index being served, and the policy built from the model's thresholds: swapped as one."""

    suggester: Suggester
    policy: DecisionPolicy


def _intent_score(suggester: Suggester, intent: str, confidence: float, locale: str) -> IntentScore:
    return IntentScore(intent=intent, name=suggester.model.display_name(intent, locale), confidence=confidence)


def new_identifier(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


def _article_card(hit: ArticleHit) -> ArticleSuggestion:
    return ArticleSuggestion(
        id=hit.article.id,
        title=hit.article.title,
        url=hit.article.url,
        snippet=hit.snippet,
        score=round(hit.score, 4),
        locale=hit.article.locale,
    )


def _route_model(route: Route) -> HandoffRoute:
    return HandoffRoute(
        team=route.team,
        queue=route.queue,
        language=route.language,
        priority=route.priority.value,
        priority_reasons=list(route.priority_reasons),
    )


class SuggestService:
    def __init__(
        self,
        suggester: Suggester,
        store: ConversationStore,
        answers: AnswerTemplates,
        router: HandoffRouter,
        settings: Settings,
        metrics: ServiceMetrics | None = None,
        webhook: WebhookDelivery | None = None,
        events: EventStore | None = None,
    ):
        self.store = store
        self.events = events
        self.review = ReviewStore(events) if events is not None else None
        self.answers = answers
        self.router = router
        self.settings = settings
        self.metrics = metrics or ServiceMetrics()
        self.webhook = webhook
        self.frustration = FrustrationDetector()
        self._active = self._activated(suggester)
        self.shadow: ShadowScorer | None = None

    @property
    def suggester(self) -> Suggester:
        return self._active.suggester

    @property
    def policy(self) -> DecisionPolicy:
        return self._active.policy

    def activate(self, suggester: Suggester) -> None:
        """Serve another model and index from the next request on; requests under way finish on the old pair."""
        previous, self._active = self._active, self._activated(suggester)
        if previous.suggester is not suggester:
            previous.suggester.close()

    def start_shadow(self, candidate: Suggester) -> None:
        """Score live traffic with `candidate` too, without changing answers (replaces any earlier candidate)."""
        if self.events is None:
            raise RuntimeError("shadow mode stores its predictions in the event database, and none is configured")
        previous, self.shadow = (
            self.shadow,
            ShadowScorer(candidate, self._activated(candidate).policy, self.events, self.metrics, self._has_answer),
        )
        if previous is not None:
            previous.close()

    def stop_shadow(self) -> bool:
        previous, self.shadow = self.shadow, None
        if previous is not None:
            previous.close()
        return previous is not None

    def _has_answer(self, intent: str, locale: str) -> bool:
        template = self.answers.get(intent)
        return template is not None and template.text_for(locale, self.settings.fallback_locale) is not None

    def _activated(self, suggester: Suggester) -> Active:
        settings, model = self.settings, suggester.model
        policy = DecisionPolicy(
            answer_threshold=settings.answer_threshold
            if settings.answer_threshold is not None
            else model.answer_threshold,
            out_of_scope_threshold=model.out_of_scope_threshold,
            handoff_intents=frozenset(settings.handoff_intents),
            never_answer_intents=frozenset(settings.never_answer_intents),
            intent_answer_thresholds=dict(settings.intent_answer_thresholds),
            handoff_after_unhelpful=settings.handoff_after_unhelpful,
            frustration_handoff_score=settings.frustration_handoff_score,
        )
        return Active(suggester, policy)

    def suggest(self, request: SuggestRequest) -> SuggestResponse:
        suggester, policy = self._active.suggester, self._active.policy  # one pair for the whole request
        analysis = suggester.analyse(request.text, request.locale)
        conversation_id = request.conversation_id or new_identifier("c")
        conversation = self.store.get(conversation_id) if request.conversation_id else None
        if request.history and conversation is None:
            turns = [{"role": turn.role, "text": redact(turn.text)} for turn in request.history]
            self.store.append(conversation_id, HistoryEvent(turns))
        frustration = self.frustration.detect(analysis.text, analysis.locale)
        person = asks_for_person(analysis.text)
        unhelpful = conversation.unhelpful_feedback if conversation else 0
        signals = ConversationSignals(
            person_request=person.phrase if person else None,
            frustration_cues=frustration.cues,
            frustration_score=frustration.score,
            unhelpful_feedback=unhelpful,
        )
        prediction = analysis.prediction
        template = self.answers.get(prediction.intent)
        has_answer = self._has_answer(prediction.intent, analysis.locale)
        outcome = policy.decide(prediction, analysis.intent_name, analysis.hits, signals, has_answer=has_answer)
        answer = None
        if template is not None and outcome.decision is Decision.BOT_ANSWER:
            answer = self._answer(analysis, suggester, template)
        route = None
        if outcome.decision is Decision.HANDOFF:
            route = self.router.route(
                None if prediction.out_of_scope else prediction.intent,
                analysis.locale,
                frustrated=frustration.frustrated,
                failed_attempts=unhelpful,
                out_of_scope=prediction.out_of_scope,
            )
            self.metrics.handoffs.labels(route.team, route.priority.value).inc()
        self.metrics.decisions.labels(outcome.decision.value, outcome.reason_code.value).inc()
        suggestion_id = new_identifier("s")
        redacted = redact(analysis.text)
        if self.events is not None:  # stored before the answer leaves: an acknowledged suggestion is on disk
            record = SuggestionRecord(
                id=suggestion_id,
                conversation_id=conversation_id,
                customer_id=request.customer_id,
                text=redacted,
                locale=analysis.locale,
                intent=prediction.intent,
                confidence=prediction.confidence,
                out_of_scope=prediction.out_of_scope,
                alternatives=list(prediction.top_intents),
                articles=[hit.article.id for hit in analysis.hits],
                decision=outcome.decision.value,
                reason_code=outcome.reason_code.value,
                reason=outcome.reason,
                frustration_score=frustration.score,
                model_version=suggester.model.version,
                index_version=suggester.index.version,
                channel=request.channel,
            )
            queue_item = new_queue_item(record)
            self.events.record_suggestion(record, [queue_item] if queue_item else [])
            if (shadow := self.shadow) is not None:
                shadow.submit(ShadowJob(suggestion_id, analysis.text, analysis.locale, signals))
        first_handoff = outcome.decision is Decision.HANDOFF and not (
            conversation and any(s.decision == Decision.HANDOFF.value for s in conversation.suggestions)
        )
        self.store.append(
            conversation_id,
            SuggestionEvent(
                suggestion_id=suggestion_id,
                text=redacted,
                locale=analysis.locale,
                intent=prediction.intent,
                intent_name=analysis.intent_name,
                confidence=prediction.confidence,
                out_of_scope=prediction.out_of_scope,
                alternatives=list(prediction.top_intents),
                articles=[{"id": h.article.id, "title": h.article.title, "url": h.article.url} for h in analysis.hits],
                decision=outcome.decision.value,
                reason_code=outcome.reason_code.value,
                reason=outcome.reason,
                frustration_score=frustration.score,
                frustration_cues=list(frustration.cues),
                answer=answer.text if answer else None,
                channel=request.channel,
                page_url=request.page_url,
            ),
        )
        if first_handoff and self.webhook is not None:
            self.webhook.submit(self.handoff_package(conversation_id).model_dump())
        return SuggestResponse(
            suggestion_id=suggestion_id,
            conversation_id=conversation_id,
            locale=analysis.locale,  # type: ignore[arg-type]
            locale_detected=analysis.locale_detected,
            intent=_intent_score(suggester, prediction.intent, prediction.confidence, analysis.locale),
            alternatives=[_intent_score(suggester, i, score, analysis.locale) for i, score in prediction.top_intents],
            out_of_scope=prediction.out_of_scope,
            articles=[_article_card(hit) for hit in analysis.hits],
            decision=outcome.decision.value,
            reason_code=outcome.reason_code.value,
            reason=outcome.reason,
            answer=answer,
            frustration=FrustrationScore(
                score=frustration.score, frustrated=frustration.frustrated, cues=list(frustration.cues)
            ),
            handoff=_route_model(route) if route else None,
            model_version=suggester.model.version,
            index_version=suggester.index.version,
        )

    def _answer(self, analysis: Analysis, suggester: Suggester, template: AnswerTemplate) -> BotAnswer | None:
        """The intent's template in the customer's language, linking the best hit of the template's article group,
        else that group's article in the customer's language, else the best hit."""
        group_hits = [hit.article for hit in analysis.hits if hit.article.group_id == template.article_group]
        article = (
            group_hits[0]
            if group_hits
            else suggester.index.article_in_group(template.article_group, analysis.locale) or analysis.hits[0].article
        )
        text = template.render(analysis.locale, article.url, self.settings.fallback_locale)
        return None if text is None else BotAnswer(text=text, article_id=article.id, url=article.url)

    def typeahead(self, request: TypeaheadRequest) -> TypeaheadResponse:
        """Articles only once the partial text is long enough and the model is confident and in scope."""
        suggester = self._active.suggester
        text = request.text.strip()
        version = suggester.model.version
        if len(text) < self.settings.typeahead_min_chars:
            self.metrics.typeahead.labels("false").inc()
            return TypeaheadResponse(articles=[], model_version=version)
        analysis = suggester.analyse(text, request.locale)
        prediction = analysis.prediction
        confident = not prediction.out_of_scope and prediction.confidence >= self.settings.typeahead_confidence
        self.metrics.typeahead.labels(str(confident and bool(analysis.hits)).lower()).inc()
        if not confident or not analysis.hits:
            return TypeaheadResponse(articles=[], model_version=version)
        return TypeaheadResponse(
            articles=[_article_card(hit) for hit in analysis.hits],
            intent=_intent_score(suggester, prediction.intent, prediction.confidence, analysis.locale),
            model_version=version,
        )

    def feedback(self, request: FeedbackRequest) -> FeedbackResponse:
        conversation_id = self.store.conversation_of(request.suggestion_id)
        if conversation_id is None:
            raise UnknownSuggestion(f"no suggestion '{request.suggestion_id}' (unknown, or expired)")
        if self.events is not None:
            try:
                self.events.record_feedback(request.suggestion_id, request.feedback, request.article_id)
            except LookupError:
                raise UnknownSuggestion(f"suggestion '{request.suggestion_id}' was deleted or purged") from None
            if self.review is not None:
                self.review.note_feedback(request.suggestion_id, request.feedback)
        self.store.append(conversation_id, FeedbackEvent(request.suggestion_id, request.feedback, request.article_id))
        self.metrics.feedback.labels(request.feedback).inc()
        conversation = self.store.get(conversation_id)
        unhelpful = conversation.unhelpful_feedback if conversation else 0
        limit = self.policy.handoff_after_unhelpful
        return FeedbackResponse(
            suggestion_id=request.suggestion_id,
            conversation_id=conversation_id,
            feedback=request.feedback,
            unhelpful_in_conversation=unhelpful,
            handoff_next=bool(limit) and unhelpful >= limit,
        )

    def delete_conversation(self, conversation_id: str) -> tuple[Deleted, int]:
        """Everything stored for a conversation: its events and its live state. Returns what went."""
        deleted = self.events.delete_conversation(conversation_id) if self.events else Deleted(0, 0, [])
        live = int(self.store.delete(conversation_id))
        return deleted, live

    def delete_customer(self, customer_id: str) -> tuple[Deleted, int]:
        """Everything stored for a customer id, in every conversation they had."""
        deleted = self.events.delete_customer(customer_id) if self.events else Deleted(0, 0, [])
        live = sum(self.store.delete(conversation_id) for conversation_id in deleted.conversation_ids)
        return deleted, live

    def handoff_package(self, conversation_id: str) -> HandoffPackage:
        conversation = self.store.get(conversation_id)
        if conversation is None:
            raise UnknownConversation(f"no conversation '{conversation_id}' (unknown, or expired)")
        return build_handoff_package(conversation, self)


def _feedback_targets(feedback: FeedbackEvent, suggestions: list[SuggestionEvent]) -> list[str]:
    """The article a feedback names, else the first article of the suggestion it answers."""
    if feedback.article_id:
        return [feedback.article_id]
    suggestion = next((s for s in suggestions if s.suggestion_id == feedback.suggestion_id), None)
    return [suggestion.articles[0]["id"]] if suggestion and suggestion.articles else []


def build_handoff_package(conversation: Conversation, service: SuggestService) -> HandoffPackage:
    suggestions = conversation.suggestions
    last = suggestions[-1] if suggestions else None
    locale = conversation.locale or service.settings.fallback_locale
    transcript: list[TranscriptTurn] = []
    for event in conversation.events:
        if isinstance(event, HistoryEvent):
            transcript += [TranscriptTurn(role=t["role"], text=t["text"]) for t in event.turns]  # type: ignore[arg-type]
        elif isinstance(event, SuggestionEvent):
            transcript.append(TranscriptTurn(role="customer", text=event.text, at=event.at))
            if event.answer:
                transcript.append(TranscriptTurn(role="bot", text=event.answer, at=event.at))
            elif event.articles and event.decision != Decision.HANDOFF.value:
                titles = "; ".join(article["title"] for article in event.articles)
                transcript.append(TranscriptTurn(role="bot", text=f"Suggested articles: {titles}", at=event.at))
    shown: dict[str, ShownArticle] = {}
    for event in suggestions:
        if event.decision == Decision.HANDOFF.value:
            continue
        for article in event.articles:
            shown.setdefault(article["id"], ShownArticle(**article, feedback=[]))
    for feedback in conversation.feedback:
        for article_id in _feedback_targets(feedback, suggestions):
            if article_id in shown:
                shown[article_id].feedback.append(feedback.feedback)
    most_frustrated = max(suggestions, key=lambda s: s.frustration_score, default=None)
    frustrated = any(s.reason_code == "frustrated" for s in suggestions) or (
        most_frustrated is not None and most_frustrated.frustration_score >= service.frustration.threshold
    )
    handed_off = [s for s in suggestions if s.decision == Decision.HANDOFF.value]
    reason_source = handed_off[-1] if handed_off else None
    route = service.router.route(
        None if last is None or last.out_of_scope else last.intent,
        locale,
        frustrated=frustrated,
        failed_attempts=conversation.unhelpful_feedback,
        out_of_scope=last is None or last.out_of_scope,
    )
    model = service.suggester.model
    topic = last.intent_name if last and not last.out_of_scope else "an unknown topic"
    summary = (
        f"{len(suggestions)} message(s) about {topic}; {len(shown)} article(s) shown; "
        f"{conversation.unhelpful_feedback} unhelpful; {'frustrated' if frustrated else 'calm'}"
        + (f"; handed off: {reason_source.reason}" if reason_source else "")
    )
    return HandoffPackage(
        conversation_id=conversation.id,
        summary=summary,
        reason_code=reason_source.reason_code if reason_source else None,
        reason=reason_source.reason if reason_source else None,
        route=_route_model(route),
        transcript=transcript,
        intents=[IntentScore(intent=i, name=model.display_name(i, locale), confidence=c) for i, c in last.alternatives]
        if last
        else [],
        intent_history=[IntentScore(intent=s.intent, name=s.intent_name, confidence=s.confidence) for s in suggestions],
        articles_shown=list(shown.values()),
        feedback=[f.feedback for f in conversation.feedback],
        frustration=FrustrationScore(
            score=most_frustrated.frustration_score if most_frustrated else 0.0,
            frustrated=frustrated,
            cues=most_frustrated.frustration_cues if most_frustrated else [],
        ),
    )
