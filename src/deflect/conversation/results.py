"""What the conversation logic answers, as plain data: the API's response schemas are built from these objects
(pydantic `from_attributes`), so a field is declared here once and mapped, never copied by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deflect.conversation.clarify import Choice, Clarification
from deflect.conversation.routing import Route
from deflect.conversation.signals import FrustrationSignal
from deflect.core.vocabulary import Decision, FeedbackKind, ReasonCode, TurnRole


@dataclass(frozen=True)
class Turn:
    role: TurnRole
    text: str


@dataclass(frozen=True)
class CustomerMessage:
    """One message as a channel delivers it; `history` holds earlier turns this service did not see. A message may be
    the option a customer chose from a clarifying question (`choice`), with or without text."""

    text: str
    locale: str | None = None
    conversation_id: str | None = None
    conversation_token: str | None = None  # issued with the conversation's first suggestion
    customer_id: str | None = None
    channel: str | None = None
    page_url: str | None = None
    history: tuple[Turn, ...] = ()
    choice: Choice | None = None


@dataclass(frozen=True)
class FeedbackGiven:
    suggestion_id: str
    feedback: FeedbackKind
    article_id: str | None = None
    conversation_token: str | None = None


@dataclass(frozen=True)
class IntentScore:
    intent: str
    name: str  # display name in the response locale
    confidence: float


@dataclass(frozen=True)
class ArticleCard:
    id: str
    title: str
    url: str
    snippet: str
    score: float
    locale: str


@dataclass(frozen=True)
class BotAnswer:
    text: str
    article_id: str
    url: str


@dataclass(frozen=True)
class Suggestion:
    suggestion_id: str
    conversation_id: str
    conversation_token: str
    locale: str
    locale_detected: bool
    intent: IntentScore
    alternatives: list[IntentScore]
    out_of_scope: bool
    articles: list[ArticleCard]
    decision: Decision
    reason_code: ReasonCode
    reason: str
    answer: BotAnswer | None
    frustration: FrustrationSignal
    handoff: Route | None
    model_version: str
    index_version: str
    clarification: Clarification | None = None  # the question and its options, when decision is clarify


@dataclass(frozen=True)
class TypeaheadResult:
    articles: list[ArticleCard]
    model_version: str
    intent: IntentScore | None = None


@dataclass(frozen=True)
class FeedbackOutcome:
    suggestion_id: str
    conversation_id: str
    feedback: FeedbackKind
    unhelpful_in_conversation: int
    handoff_next: bool


@dataclass(frozen=True)
class ChannelReply:
    """An answer sent to the channel through the outbox rather than in the response, for a channel that calls
    Deflect with a webhook and takes answers through its own API (Chatwoot): the delivery is stored with the
    suggestion in one transaction. `payload` builds it from the suggestion and, on a handoff, the package."""

    delivery_id: str  # from the channel's own message id: a message delivered twice is answered once
    target: str
    payload: Callable[[Suggestion, dict[str, Any] | None], dict[str, Any]]
