"""The conversation side of Deflect: a message's analysis plus what the conversation says (person requests,
frustration, feedback so far) → a decision, a bot answer, a route for handoffs; feedback; the handoff package.
Every call takes and returns plain data (deflect.conversation.results); the API maps it to its schemas."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deflect.conversation.access import Caller, ConversationTokens, check_access, check_history
from deflect.conversation.answers import AnswerTemplate, AnswerTemplates
from deflect.conversation.clarify import answered_question, ask, unclear_turns
from deflect.conversation.details import DetailsExtractor
from deflect.conversation.follow_up import open_question, settled_intent, typed_choice
from deflect.conversation.handoff import HandoffPackage, build_handoff_package
from deflect.conversation.metrics import ServiceMetrics
from deflect.conversation.pii import redact
from deflect.conversation.policy import ConversationSignals, DecisionPolicy, PolicyOutcome, policy_for
from deflect.conversation.recording import (
    Reading,
    handoff_delivery,
    opening_events,
    reply_delivery,
    stored_page_url,
    suggestion_event,
    suggestion_record,
)
from deflect.conversation.results import (
    ArticleCard,
    BotAnswer,
    ChannelReply,
    CustomerMessage,
    FeedbackGiven,
    FeedbackOutcome,
    IntentScore,
    Suggestion,
    TypeaheadResult,
)
from deflect.conversation.routing import HandoffRouter
from deflect.conversation.shadow_feed import ShadowJob, ShadowSink
from deflect.conversation.signals import FrustrationDetector, asks_for_person
from deflect.conversation.state import (
    Conversation,
    ConversationStore,
    FeedbackEvent,
)
from deflect.conversation.suggester import Analysis, Suggester
from deflect.core.settings import Settings
from deflect.core.text import normalize_text
from deflect.core.vocabulary import ClarifyStep, Decision, OptionKind, ReasonCode
from deflect.retrieval.index import ArticleHit
from deflect.store.audit import AuditLog
from deflect.store.events import Deleted, EventStore
from deflect.store.queue_items import new_queue_item
from deflect.store.review import ReviewStore


class UnknownSuggestion(LookupError):
    pass


class UnknownConversation(LookupError):
    pass


class UnknownArticle(ValueError):
    """Feedback named an article the suggestion did not show."""


@dataclass(frozen=True)
class Active:
    """The model and index being served, and the policy built from the model's thresholds: swapped as one."""

    suggester: Suggester
    policy: DecisionPolicy


def _intent_score(suggester: Suggester, intent: str, confidence: float, locale: str) -> IntentScore:
    return IntentScore(intent, suggester.model.display_name(intent, locale), confidence)


def new_identifier(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


def _article_card(hit: ArticleHit) -> ArticleCard:
    article = hit.article
    return ArticleCard(article.id, article.title, article.url, hit.snippet, round(hit.score, 4), article.locale)


class SuggestService:
    def __init__(
        self,
        suggester: Suggester,
        store: ConversationStore,
        answers: AnswerTemplates,
        router: HandoffRouter,
        settings: Settings,
        metrics: ServiceMetrics | None = None,
        events: EventStore | None = None,
        # each conversation's first handoff goes to the outbox as this payload, with its suggestion, per target
        handoff_payload: Callable[[HandoffPackage], dict[str, Any]] | None = None,
        handoff_targets: tuple[str, ...] = (),
        on_queued: Callable[[], None] | None = None,  # e.g. wakes the delivery worker
        tokens: ConversationTokens | None = None,
    ):
        self.store = store
        self.tokens = tokens or ConversationTokens.random()
        self.events = events
        self.review = ReviewStore(events) if events is not None else None
        self.audit = AuditLog(events) if events is not None else None
        self.answers = answers
        self.router = router
        self.settings = settings
        self.metrics = metrics or ServiceMetrics()
        self.handoff_payload = handoff_payload
        self.handoff_targets = handoff_targets
        self.on_queued = on_queued
        self.frustration = FrustrationDetector()
        self.details = DetailsExtractor.from_file(settings.details_file)
        self._active = self._activated(suggester)
        self.shadow: ShadowSink | None = None  # set by deflect.lifecycle.shadow

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

    def replace_shadow(self, sink: ShadowSink | None) -> ShadowSink | None:
        """Send every stored suggestion to `sink` too (None: to nothing); returns the sink it replaces."""
        previous, self.shadow = self.shadow, sink
        return previous

    def has_answer(self, intent: str, locale: str) -> bool:
        template = self.answers.get(intent)
        return template is not None and template.text_for(locale, self.settings.fallback_locale) is not None

    def _activated(self, suggester: Suggester) -> Active:
        return Active(suggester, policy_for(self.settings, suggester.model))

    def suggest(self, request: CustomerMessage, caller: Caller, reply: ChannelReply | None = None) -> Suggestion:
        """Raises ConversationForbidden when `caller` may not continue the conversation or send that history, and
        UnknownChoice when `request.choice` answers no open question of the conversation. With `reply`, the answer
        also goes to the outbox for a channel that takes it through its own API, stored with the suggestion."""
        suggester, policy = self._active.suggester, self._active.policy  # one pair for the whole request
        check_history(caller, request.history)
        conversation_id = request.conversation_id or new_identifier("c")
        conversation = self.store.get(conversation_id) if request.conversation_id else None
        if request.conversation_id is not None:
            check_access(caller, conversation_id, conversation, request.conversation_token, self.tokens)
        reading = self._read(request, conversation, suggester, policy)
        analysis, outcome, frustration = reading.analysis, reading.outcome, reading.frustration
        prediction = analysis.prediction
        template = self.answers.get(prediction.intent)
        answer = None
        if template is not None and outcome.decision is Decision.BOT_ANSWER:
            answer = self._answer(analysis, suggester, template)
        route = None
        if outcome.decision is Decision.HANDOFF:
            route = self.router.route(
                None if prediction.out_of_scope else prediction.intent,
                analysis.locale,
                frustrated=frustration.frustrated,
                failed_attempts=reading.signals.unhelpful_feedback,
                out_of_scope=prediction.out_of_scope,
            )
            self.metrics.handoffs.labels(route.team, route.priority.value).inc()
        self.metrics.decisions.labels(outcome.decision.value, outcome.reason_code.value).inc()
        suggestion_id = new_identifier("s")
        redacted = redact(reading.said)
        page_url = stored_page_url(request.page_url)
        details = self.details.extract(request.text) if request.text else []
        event = suggestion_event(suggestion_id, request, reading, redacted, answer, page_url, details)
        opening = [] if conversation is not None else opening_events(request, caller)
        first_handoff = outcome.decision is Decision.HANDOFF and not (
            conversation and any(s.decision == Decision.HANDOFF.value for s in conversation.suggestions)
        )
        suggestion = Suggestion(
            suggestion_id=suggestion_id,
            conversation_id=conversation_id,
            conversation_token=self.tokens.issue(caller.key_id, conversation_id),
            locale=analysis.locale,
            locale_detected=analysis.locale_detected,
            intent=_intent_score(suggester, prediction.intent, prediction.confidence, analysis.locale),
            alternatives=[_intent_score(suggester, i, score, analysis.locale) for i, score in prediction.top_intents],
            out_of_scope=prediction.out_of_scope,
            articles=[_article_card(hit) for hit in reading.shown],
            decision=outcome.decision,
            reason_code=outcome.reason_code,
            reason=outcome.reason,
            answer=answer,
            frustration=frustration,
            handoff=route,
            model_version=suggester.model.version,
            index_version=suggester.index.version,
            clarification=reading.clarification,
        )
        queued: list[Any] = []
        if self.events is not None:  # stored before the answer leaves: an acknowledged suggestion is on disk
            record = suggestion_record(
                suggestion_id,
                conversation_id,
                request,
                reading,
                redacted,
                suggester.model.version,
                suggester.index.version,
            )
            queue_item = new_queue_item(record)
            rows: list[Any] = [queue_item] if queue_item else []
            package = None
            if route and self.handoff_payload and (reply or (first_handoff and self.handoff_targets)):
                so_far = Conversation(conversation_id, [*(conversation.events if conversation else opening), event])
                package = self.handoff_payload(self._package(so_far))
            if first_handoff and package is not None:
                queued = [handoff_delivery(new_identifier("d"), record, package, t) for t in self.handoff_targets]
            if reply is not None:
                answer_out = reply.payload(suggestion, package)
                queued.append(reply_delivery(reply.delivery_id, record, reply.target, answer_out))
            rows.extend(queued)
            if outcome.reason_code is ReasonCode.CHOSEN and self.review is not None:
                self.review.record_choice(record, rows, caller.key_id)
            else:
                self.events.record_suggestion(record, rows)
            if (shadow := self.shadow) is not None and reading.chosen_from is None:
                shadow.submit(ShadowJob(suggestion_id, analysis.text, analysis.locale, reading.signals))
        elif reply is not None:
            raise ValueError("a channel reply needs the event database: it is sent from the outbox")
        for opened in opening:  # only once the suggestion is stored: a refused request leaves nothing behind
            self.store.append(conversation_id, opened)
        self.store.append(conversation_id, event)
        if queued:
            self.metrics.outbox.labels("queued").inc(len(queued))
            if self.on_queued is not None:
                self.on_queued()
        return suggestion

    def _read(
        self, request: CustomerMessage, conversation: Conversation | None, suggester: Suggester, policy: DecisionPolicy
    ) -> Reading:
        """The message analysed and decided: a chosen option — clicked, or typed and mapped to it — resolves the
        question it answers (the question's text read as the intent chosen; "something else" asks to rephrase; "a
        person" hands off); any other message after the first is read with the conversation's settled intent."""
        question = answered_question(conversation, request.choice) if request.choice else None
        choice = request.choice
        said = normalize_text(request.text)
        context = self.settings.context
        message = None
        if context and choice is None and said and (asked := open_question(conversation)) is not None:
            message = suggester.read(request.text)
            typed = typed_choice(said, asked, message.prediction, policy.threshold_of(message.prediction))
            question, choice = (asked, typed) if typed is not None else (None, None)
        settled = settled_intent(conversation) if context and question is None else None
        if question is not None and choice is not None:
            said = said or question.option_label(choice.kind, choice.intent)
            if choice.kind is OptionKind.INTENT and choice.intent is not None:
                kept = question.sentence_vector
                analysis = suggester.analyse_as(question.text, choice.intent, question.locale, kept)
            else:
                analysis = suggester.analyse(question.text, question.locale)
        elif settled is not None:
            analysis = suggester.analyse_in_context(message or suggester.read(request.text), request.locale, settled)
            said = analysis.text
        else:
            analysis = suggester.analyse(request.text, request.locale)
            said = analysis.text
        frustration = self.frustration.detect(said, analysis.locale)
        person = asks_for_person(said)
        signals = ConversationSignals(
            person_request=person.phrase if person else None,
            frustration_cues=frustration.cues,
            frustration_score=frustration.score,
            unhelpful_feedback=conversation.unhelpful_feedback if conversation else 0,
            unclear_turns=unclear_turns(conversation),
        )
        prediction = analysis.prediction
        has_answer = self.has_answer(prediction.intent, analysis.locale)
        if choice is not None and choice.kind is OptionKind.PERSON:
            outcome = PolicyOutcome(
                Decision.HANDOFF, ReasonCode.PERSON_REQUESTED, "The customer chose to talk to a person."
            )
        elif choice is not None and choice.kind is OptionKind.SOMETHING_ELSE:
            outcome = policy.rephrase_after_something_else(signals)
        else:
            chosen = choice is not None
            outcome = policy.decide(
                prediction, analysis.intent_name, analysis.hits, signals, has_answer=has_answer, chosen=chosen
            )
        clarification = None
        if outcome.decision is Decision.CLARIFY:
            rephrase = signals.unclear_turns >= 1 or outcome.reason_code is ReasonCode.NOT_AMONG_OPTIONS
            step = ClarifyStep.REPHRASE if rephrase else ClarifyStep.CHOOSE
            clarification = ask(
                step,
                prediction,
                analysis.hits,
                policy.clarify,
                suggester.model.option_label,
                analysis.locale,
                self.settings.fallback_locale,
            )
        chosen_from = question.suggestion_id if question is not None else None
        return Reading(said, analysis, frustration, signals, outcome, clarification, chosen_from)

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
        return None if text is None else BotAnswer(text, article.id, article.url)

    def typeahead(self, text: str, locale: str | None = None) -> TypeaheadResult:
        """Articles only once the partial text is long enough and the model is confident and in scope."""
        suggester = self._active.suggester
        text = text.strip()
        version = suggester.model.version
        if len(text) < self.settings.typeahead_min_chars:
            self.metrics.typeahead.labels("false").inc()
            return TypeaheadResult(articles=[], model_version=version)
        analysis = suggester.analyse(text, locale)
        prediction = analysis.prediction
        confident = not prediction.out_of_scope and prediction.confidence >= self.settings.typeahead_confidence
        self.metrics.typeahead.labels(str(confident and bool(analysis.hits)).lower()).inc()
        if not confident or not analysis.hits:
            return TypeaheadResult(articles=[], model_version=version)
        return TypeaheadResult(
            articles=[_article_card(hit) for hit in analysis.hits],
            intent=_intent_score(suggester, prediction.intent, prediction.confidence, analysis.locale),
            model_version=version,
        )

    def feedback(self, request: FeedbackGiven, caller: Caller) -> FeedbackOutcome:
        """Raises UnknownSuggestion, UnknownArticle (an article the suggestion did not show) or
        ConversationForbidden."""
        conversation_id = self.store.conversation_of(request.suggestion_id)
        conversation = self.store.get(conversation_id) if conversation_id is not None else None
        suggestion = conversation.suggestion(request.suggestion_id) if conversation is not None else None
        if conversation_id is None or suggestion is None:
            raise UnknownSuggestion(f"no suggestion '{request.suggestion_id}' (unknown, or expired)")
        check_access(caller, conversation_id, conversation, request.conversation_token, self.tokens)
        if request.article_id is not None and request.article_id not in suggestion.shown_articles:
            raise UnknownArticle(
                f"article '{request.article_id}' was not shown with suggestion '{request.suggestion_id}'"
            )
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
        return FeedbackOutcome(
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

    def handoff_package(self, conversation_id: str, caller: Caller, token: str | None = None) -> HandoffPackage:
        """Raises UnknownConversation or ConversationForbidden."""
        conversation = self.store.get(conversation_id)
        check_access(caller, conversation_id, conversation, token, self.tokens)  # first: a 404 would tell it exists
        if conversation is None:
            raise UnknownConversation(f"no conversation '{conversation_id}' (unknown, or expired)")
        return self._package(conversation)

    def _package(self, conversation: Conversation) -> HandoffPackage:
        return build_handoff_package(
            conversation,
            self.router,
            self.suggester.model.display_name,
            self.frustration.threshold,
            self.settings.fallback_locale,
            self.details.describe,
        )
