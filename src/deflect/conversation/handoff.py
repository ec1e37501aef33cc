"""The handoff package: what an agent receives when a conversation reaches a person, so the customer never repeats
themselves — the redacted transcript, the intents, the articles shown and what the customer said of them, the
frustration, the details the customer gave (order numbers, amounts; contact details only as given), why the bot
handed off and where the conversation should go."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from deflect.conversation.details import Detail
from deflect.conversation.results import IntentScore
from deflect.conversation.routing import HandoffRouter, Route
from deflect.conversation.signals import FrustrationSignal
from deflect.conversation.state import Conversation, FeedbackEvent, HistoryEvent, SuggestionEvent
from deflect.core.vocabulary import Decision, ReasonCode, TurnRole

DisplayName = Callable[[str, str], str]  # (intent, locale) → the intent's name in that locale
DescribeDetail = Callable[[Detail, str], str]  # (detail, locale) → the agent's line for it


@dataclass(frozen=True)
class TranscriptTurn:
    role: TurnRole
    text: str  # PII-redacted
    at: float | None = None  # unix time, when known
    client_supplied: bool = False  # a turn the client's history told of: its word, not this service's record


@dataclass
class ShownArticle:
    id: str
    title: str
    url: str
    feedback: list[str]


@dataclass(frozen=True)
class GivenDetail:
    kind: str
    value: str | None  # None for contact details: the package says only that they were given
    text: str | None  # as the customer wrote it
    given: bool
    label: str  # the agent's line: "주문번호: 20261103-0012345", "연락처 제공됨"
    turn: int  # the customer message it came from, counted from 0


@dataclass(frozen=True)
class HandoffPackage:
    conversation_id: str
    summary: str
    reason_code: str | None  # why the bot handed off; None if it has not (yet)
    reason: str | None
    route: Route
    transcript: list[TranscriptTurn]
    intents: list[IntentScore]  # the last message's top intents
    intent_history: list[IntentScore]  # the best intent of each message, in order
    articles_shown: list[ShownArticle]
    feedback: list[str]
    frustration: FrustrationSignal  # the most frustrated message of the conversation
    details: list[GivenDetail]  # order numbers and the like, each once, in the order given


def transcript_of(conversation: Conversation) -> list[TranscriptTurn]:
    transcript: list[TranscriptTurn] = []
    for event in conversation.events:
        if isinstance(event, HistoryEvent):
            transcript += [
                TranscriptTurn(role=TurnRole(t["role"]), text=t["text"], client_supplied=True) for t in event.turns
            ]
        elif isinstance(event, SuggestionEvent):
            transcript.append(TranscriptTurn(role=TurnRole.CUSTOMER, text=event.text, at=event.at))
            if event.answer:
                transcript.append(TranscriptTurn(role=TurnRole.BOT, text=event.answer, at=event.at))
            elif event.clarification:
                labels = " / ".join(option["label"] for option in event.offered)
                question = f"{event.clarification['question']} ({labels})"
                transcript.append(TranscriptTurn(role=TurnRole.BOT, text=question, at=event.at))
            elif event.articles and event.decision != Decision.HANDOFF:
                titles = "; ".join(article["title"] for article in event.articles)
                transcript.append(TranscriptTurn(role=TurnRole.BOT, text=f"Suggested articles: {titles}", at=event.at))
    return transcript


def _feedback_targets(feedback: FeedbackEvent, suggestions: list[SuggestionEvent]) -> list[str]:
    """The article a feedback names, else the first article of the suggestion it answers."""
    if feedback.article_id:
        return [feedback.article_id]
    suggestion = next((s for s in suggestions if s.suggestion_id == feedback.suggestion_id), None)
    return [suggestion.articles[0]["id"]] if suggestion and suggestion.articles else []


def articles_shown(conversation: Conversation) -> list[ShownArticle]:
    """Every article the bot showed (not those listed beside a handoff), with the feedback each one got."""
    suggestions = conversation.suggestions
    shown: dict[str, ShownArticle] = {}
    for event in suggestions:
        if event.decision == Decision.HANDOFF:
            continue
        for article in event.articles:
            shown.setdefault(article["id"], ShownArticle(**article, feedback=[]))
    for feedback in conversation.feedback:
        for article_id in _feedback_targets(feedback, suggestions):
            if article_id in shown:
                shown[article_id].feedback.append(feedback.feedback)
    return list(shown.values())


def given_details(conversation: Conversation, describe: DescribeDetail, locale: str) -> list[GivenDetail]:
    """Every detail the customer's messages carried, once: a value the first time it was given, a contact detail
    the first time one of its kind was."""
    seen: set[tuple[str, str | None]] = set()
    details: list[GivenDetail] = []
    for turn, event in enumerate(conversation.suggestions):
        for stored_detail in event.details:
            detail = Detail.from_dict({**stored_detail, "turn": turn})
            key = (detail.kind, None if detail.given else detail.value)
            if key not in seen:
                seen.add(key)
                label = describe(detail, locale)
                details.append(GivenDetail(detail.kind, detail.value, detail.text, detail.given, label, turn))
    return details


def build_handoff_package(
    conversation: Conversation,
    router: HandoffRouter,
    display_name: DisplayName,
    frustration_threshold: float,
    fallback_locale: str,
    describe_detail: DescribeDetail,
) -> HandoffPackage:
    suggestions = conversation.suggestions
    last = suggestions[-1] if suggestions else None
    locale = conversation.locale or fallback_locale
    shown = articles_shown(conversation)
    most_frustrated = max(suggestions, key=lambda s: s.frustration_score, default=None)
    frustrated = any(s.reason_code == ReasonCode.FRUSTRATED for s in suggestions) or (
        most_frustrated is not None and most_frustrated.frustration_score >= frustration_threshold
    )
    handed_off = [s for s in suggestions if s.decision == Decision.HANDOFF]
    reason_source = handed_off[-1] if handed_off else None
    route = router.route(
        None if last is None or last.out_of_scope else last.intent,
        locale,
        frustrated=frustrated,
        failed_attempts=conversation.unhelpful_feedback,
        out_of_scope=last is None or last.out_of_scope,
    )
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
        route=route,
        transcript=transcript_of(conversation),
        intents=[IntentScore(i, display_name(i, locale), c) for i, c in last.alternatives] if last else [],
        intent_history=[IntentScore(s.intent, s.intent_name, s.confidence) for s in suggestions],
        articles_shown=shown,
        feedback=[f.feedback for f in conversation.feedback],
        frustration=FrustrationSignal(
            score=most_frustrated.frustration_score if most_frustrated else 0.0,
            frustrated=frustrated,
            cues=tuple(most_frustrated.frustration_cues) if most_frustrated else (),
        ),
        details=given_details(conversation, describe_detail, locale),
    )
