"""Request and response shapes of the v1 API (they are what the OpenAPI page documents)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from deflect.api.clarify_schemas import IDENTIFIER, ChoiceIn, ClarificationOut
from deflect.conversation.handoff import HandoffPackage as HandoffPackageResult
from deflect.core.links import article_url_problem
from deflect.core.text import normalize_text
from deflect.core.vocabulary import Decision, FeedbackKind, Priority, ReasonCode, TurnRole

Locale = Literal["ko", "en"]
MAX_TEXT_CHARS = 2000


MAX_HISTORY_TURNS = 50
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"  # what a database column (PostgreSQL text above all) can store


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: TurnRole
    text: str = Field(max_length=MAX_TEXT_CHARS)


class SuggestRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "택배가 어디에 있나요?"},
                {"text": "where is my parcel", "locale": "en", "channel": "web"},
                {
                    "text": "still nothing, I want a person",
                    "conversation_id": "c-3f9a1c2e7b5d4e60",
                    "conversation_token": "token issued with the first suggestion",
                },
                {
                    "conversation_id": "c-3f9a1c2e7b5d4e60",
                    "conversation_token": "token issued with the first suggestion",
                    "choice": {"suggestion_id": "s-5d0c2f7a9b1e3c4d", "intent": "refund_status"},
                },
            ]
        },
    )

    choice: ChoiceIn | None = Field(
        None,
        description="The option the customer picked from a clarifying question (decision clarify) of this "
        "conversation: it resolves like a confident prediction of that intent",
    )
    text: str = Field(
        "",
        validate_default=True,
        max_length=MAX_TEXT_CHARS,
        description="The customer's message (may be left out when `choice` is sent: the option's label stands in)",
    )
    conversation_id: str | None = Field(
        None,
        pattern=IDENTIFIER,
        description="Ties messages, feedback and the handoff together; one is issued when absent. A widget key "
        "continues a conversation only with its conversation_token; server and admin keys may name their own ids",
    )
    conversation_token: str | None = Field(
        None,
        max_length=128,
        pattern=IDENTIFIER,
        description="The token issued with this conversation's first suggestion (widget keys need it)",
    )
    locale: Locale | None = Field(None, description="The customer's language; detected from the text when absent")
    customer_id: str | None = Field(
        None,
        pattern=IDENTIFIER,
        description="Your id for the customer: lets an admin delete everything stored about them",
    )
    channel: str | None = Field(
        None,
        max_length=32,
        pattern=NO_CONTROL_CHARACTERS,
        description="Where the message came from: web, app, kakao, …",
    )
    page_url: str | None = Field(
        None, max_length=2048, pattern=NO_CONTROL_CHARACTERS, description="The page the customer is on"
    )
    history: list[HistoryTurn] = Field(
        default_factory=list,
        max_length=MAX_HISTORY_TURNS,
        description="Earlier turns this service did not see (kept once, for the agent's transcript, marked as "
        "client-supplied); widget keys may send only customer turns",
    )

    @field_validator("text")
    @classmethod
    def text_has_content(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("choice") is None and not normalize_text(value):
            raise ValueError("text is empty once whitespace and control characters are removed")
        return value

    @model_validator(mode="after")
    def choice_in_a_conversation(self) -> SuggestRequest:
        if self.choice is not None and self.conversation_id is None:
            raise ValueError("a choice answers a question of a conversation: send its conversation_id")
        return self


class TypeaheadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "택배가 어디"}]})

    text: str = Field(max_length=MAX_TEXT_CHARS, description="What the customer has typed so far")
    locale: Locale | None = None


class IntentScore(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    intent: str = Field(description="Intent id")
    name: str = Field(description="Display name in the response locale")
    confidence: float = Field(ge=0.0, le=1.0, description="Calibrated probability")


class ArticleSuggestion(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    url: str
    snippet: str
    score: float
    locale: str


class BotAnswer(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    text: str = Field(description="The passage of the article that answers the message")
    article_id: str
    url: str


class FrustrationScore(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    score: float = Field(ge=0.0, le=1.0)
    frustrated: bool
    cues: list[str] = Field(description="What in the message sounded frustrated")


class HandoffRoute(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    team: str
    queue: str
    language: str
    priority: Priority
    priority_reasons: list[str]


class SuggestResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    suggestion_id: str = Field(description="Send it back with feedback on this suggestion")
    conversation_id: str
    conversation_token: str = Field(
        description="Keep it with conversation_id: a widget sends it with the next message, feedback and the handoff "
        "request"
    )
    locale: Locale
    locale_detected: bool = Field(description="True when the locale was detected rather than given")
    intent: IntentScore = Field(description="The best in-scope intent (also when the message is out of scope)")
    alternatives: list[IntentScore] = Field(description="The top intents, best first (the best one included)")
    out_of_scope: bool
    articles: list[ArticleSuggestion]
    decision: Decision
    reason_code: ReasonCode = Field(description="Machine-readable reason for the decision")
    reason: str = Field(description="Human-readable reason for the decision")
    answer: BotAnswer | None = Field(None, description="Present when decision is bot_answer")
    clarification: ClarificationOut | None = Field(
        None,
        description="Present when decision is clarify: the question to show and its options (buttons); send the "
        "customer's pick back as `choice`, or their typed reply as `text`",
    )
    frustration: FrustrationScore
    handoff: HandoffRoute | None = Field(None, description="Where the conversation goes, when decision is handoff")
    model_version: str
    index_version: str


class TypeaheadResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    articles: list[ArticleSuggestion] = Field(description="Empty unless the partial text is clear enough")
    intent: IntentScore | None = Field(None, description="Present when articles are")
    model_version: str


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"suggestion_id": "s-…", "feedback": "not_helpful"}]}
    )

    suggestion_id: str = Field(pattern=IDENTIFIER)
    feedback: FeedbackKind
    article_id: str | None = Field(
        None, max_length=128, pattern=NO_CONTROL_CHARACTERS, description="The shown article it is about, if one"
    )
    conversation_token: str | None = Field(
        None, max_length=128, pattern=IDENTIFIER, description="The suggestion's conversation token (widget keys)"
    )


class FeedbackResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    suggestion_id: str
    conversation_id: str
    feedback: FeedbackKind
    unhelpful_in_conversation: int = Field(description="Not-helpful and escalated feedback so far")
    handoff_next: bool = Field(description="True when the next message will be handed to a person")


class TranscriptTurn(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    role: TurnRole
    text: str = Field(description="PII-redacted")
    at: float | None = Field(None, description="Unix time, when known")
    client_supplied: bool = Field(
        False, description="True for turns the caller sent as history: told, not seen by this service"
    )


class ShownArticle(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    url: str
    feedback: list[str]


class GivenDetail(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str = Field(description="order_number, tracking_number, product_code, amount, date; phone, email, … given")
    value: str | None = Field(description="Normalised (e.g. 20261103-0012345, 4900 KRW); null for contact details")
    text: str | None = Field(description="As the customer wrote it; null for contact details")
    given: bool = Field(description="True for contact details: given, kept redacted")
    label: str = Field(description="The agent's line, in the conversation's language: 주문번호: 20261103-0012345")
    turn: int = Field(description="The customer message it came from, counted from 0")


class HandoffPackage(BaseModel):
    """What the agent receives: so the customer never repeats themselves."""

    model_config = ConfigDict(from_attributes=True)

    conversation_id: str
    summary: str
    reason_code: str | None = Field(description="Why the bot handed off; null if it has not (yet)")
    reason: str | None
    route: HandoffRoute
    transcript: list[TranscriptTurn]
    intents: list[IntentScore] = Field(description="The last message's top intents")
    intent_history: list[IntentScore] = Field(description="The best intent of each message, in order")
    articles_shown: list[ShownArticle]
    feedback: list[str]
    frustration: FrustrationScore = Field(description="The most frustrated message of the conversation")
    details: list[GivenDetail] = Field(
        description="Details the customer gave, each once: so the agent never asks for the order number again"
    )


class HealthResponse(BaseModel):
    status: Literal["ok"]


class ReadinessResponse(BaseModel):
    status: Literal["ready", "not_ready"]
    model_version: str | None
    index_version: str | None
    conversation_store: Literal["memory", "redis"]
    checks: dict[str, bool]


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorResponse(BaseModel):
    error: ErrorBody


class DeletionResponse(BaseModel):
    conversations: list[str] = Field(description="Conversations whose stored events were deleted")
    suggestions: int = Field(description="Stored suggestions deleted")
    feedback: int = Field(description="Stored feedback deleted")
    review_labels: int = Field(0, description="Reviewers' labels on these conversations deleted")
    live_conversations: int = Field(description="Conversations dropped from the live conversation state")


class ArticleUpsert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=60_000, description="Markdown")
    locale: Locale
    url: str = Field(
        min_length=1, max_length=2048, description="An http(s) URL, or a path on the customer's site ('/help/…')"
    )
    group: str | None = Field(None, max_length=200, description="Shared by translations; default: the id")
    intents: list[str] = Field(default_factory=list, max_length=50)
    section: str | None = Field(None, max_length=200)

    @field_validator("url")
    @classmethod
    def _safe_link(cls, url: str) -> str:
        problem = article_url_problem(url)
        if problem is not None:
            raise ValueError(f"the article URL {problem}")
        return url


class ArticleSummary(BaseModel):
    id: str
    title: str
    locale: str
    url: str
    group: str
    intents: list[str]


class IndexChangeResponse(BaseModel):
    article_id: str
    added: int
    updated: int
    deleted: int
    embedded_chunks: int
    index_version: str


class AnswerTemplateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    article_group: str = Field(min_length=1, max_length=200, description="The article group the answer links")
    texts: dict[Locale, str] = Field(min_length=1, description="Per locale, with {article_link} exactly once")

    @field_validator("texts")
    @classmethod
    def one_link_each(cls, texts: dict[str, str]) -> dict[str, str]:
        for locale, text in texts.items():
            if text.count("{article_link}") != 1:
                raise ValueError(f"the {locale} text must contain {{article_link}} exactly once")
            if len(text) > MAX_TEXT_CHARS:
                raise ValueError(f"the {locale} text is longer than {MAX_TEXT_CHARS} characters")
        return texts


class AnswerTemplateOut(AnswerTemplateBody):
    intent: str


class ActivateRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"model": "models/v2", "index": "indexes/v2"}]}
    )

    model: str = Field(min_length=1, max_length=4096, description="Model artifact folder on the server")
    index: str = Field(min_length=1, max_length=4096, description="Index folder built with the model's encoder")


class ActivationResponse(BaseModel):
    status: Literal["idle", "loading", "active", "failed"]
    requested_model: str | None
    requested_index: str | None
    error: str | None
    started_at: float | None
    finished_at: float | None
    active_model_version: str
    active_index_version: str


class ShadowResponse(BaseModel):
    status: Literal["off", "idle", "loading", "active", "failed"] = Field(
        description="active: the candidate is scoring live traffic; off: no candidate"
    )
    requested_model: str | None
    requested_index: str | None
    error: str | None
    shadow_model_version: str | None
    active_model_version: str


def handoff_payload(package: HandoffPackageResult) -> dict[str, object]:
    """A handoff package as the API and the helpdesk webhook send it."""
    return HandoffPackage.model_validate(package).model_dump(mode="json")
