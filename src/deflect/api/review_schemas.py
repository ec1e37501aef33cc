"""Request and response shapes of the review API (`/review/api`), which the review page calls."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deflect.api.schemas import IDENTIFIER

ReviewAction = Literal["confirm", "correct", "out_of_scope", "new_intent", "attach_article"]
INTENT_NAME = r"^[a-z][a-z0-9_]{1,63}$"
MAX_ITEM_ID = 2**31 - 1  # item ids and offsets beyond what the databases' integers hold are refused with 422


class SignInRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=8, max_length=200, description="A reviewer or admin API key")


class SessionInfo(BaseModel):
    reviewer: str
    role: str
    expires_at: datetime | None = None


class LabelOut(BaseModel):
    action: str
    intent: str
    article_id: str | None
    note: str | None
    reviewer: str
    created_at: datetime


class AlternativeOut(BaseModel):
    intent: str
    name: str
    confidence: float


class QueueItemOut(BaseModel):
    id: int
    suggestion_id: str
    conversation_id: str
    created_at: datetime
    text: str = Field(description="The customer's message, PII-redacted")
    locale: str
    intent: str
    intent_name: str
    confidence: float
    out_of_scope: bool
    alternatives: list[AlternativeOut]
    articles: list[str]
    decision: str
    reason_code: str
    reason: str
    frustration_score: float
    model_version: str
    reasons: list[str] = Field(description="Why it is in the queue")
    priority: float
    status: Literal["open", "claimed", "done"]
    claimed_by: str | None
    label: LabelOut | None


class QueuePageOut(BaseModel):
    total: int
    items: list[QueueItemOut]


class TurnOut(BaseModel):
    suggestion_id: str
    created_at: datetime
    text: str
    intent: str
    intent_name: str
    confidence: float
    decision: str
    reason: str
    articles: list[str]
    feedback: list[str]
    reason_code: str = ""
    clarification: dict[str, Any] | None = Field(
        None, description="For a clarify decision: the question asked: {step, question, options: [{kind, label, …}]}"
    )
    chosen_from: str | None = Field(None, description="The question (suggestion id) whose option this turn chose")


class ItemDetailOut(BaseModel):
    item: QueueItemOut
    conversation: list[TurnOut]
    labels: list[LabelOut] = Field(description="Every label on this message, newest first")


class LabelBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"action": "correct", "intent": "refund_status"}]},
    )

    action: ReviewAction
    intent: str | None = Field(
        None, pattern=INTENT_NAME, description="correct: one of the model's intents; new_intent: a new snake_case name"
    )
    article_id: str | None = Field(None, pattern=IDENTIFIER, description="attach_article: the article that answers")
    note: str | None = Field(None, max_length=1000)


class BulkBody(LabelBody):
    model_config = ConfigDict(extra="forbid")

    action: Literal[  # type: ignore[assignment]
        "claim", "release", "confirm", "correct", "out_of_scope", "new_intent", "attach_article"
    ]
    item_ids: list[Annotated[int, Field(ge=1, le=MAX_ITEM_ID)]] = Field(min_length=1, max_length=500)


class ActionResult(BaseModel):
    item_ids: list[int]
    action: str
    labels: list[LabelOut] = []


class IntentOut(BaseModel):
    intent: str
    name_ko: str
    name_en: str


class ArticleOut(BaseModel):
    id: str
    title: str
    locale: str
    url: str


class CatalogOut(BaseModel):
    model_version: str
    intents: list[IntentOut]
    articles: list[ArticleOut]
    proposed_intents: list[str] = Field(description="New intents reviewers have proposed, not yet in the model")


class DayOut(BaseModel):
    day: str
    suggestions: int
    bot_answers: int
    handoffs: int
    conversations: int
    deflected_conversations: int


class CountOut(BaseModel):
    name: str
    count: int


class AnalyticsOut(BaseModel):
    since: datetime
    days: int
    suggestions: int
    conversations: int
    deflection_rate: float | None = Field(description="Conversations that ended without a handoff or escalation")
    handoff_rate: float | None
    bot_answer_rate: float | None
    handoffs_by_reason: list[CountOut]
    top_intents: list[CountOut]
    feedback: list[CountOut]
    feedback_rates: dict[str, float]
    per_day: list[DayOut]
    queue: dict[str, int]


class NeedClusterOut(BaseModel):
    id: int
    size: int
    item_ids: list[int]
    examples: list[str]
    terms: list[str]
    locales: dict[str, int]
    out_of_scope_share: float


class UnmetNeedsOut(BaseModel):
    considered: int = Field(description="Open out-of-scope and low-confidence messages clustered")
    clusters: list[NeedClusterOut]


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    actor_key_id: str
    action: str
    target: str
    details: dict[str, object]


class ClarifyOutcomesOut(BaseModel):
    offered: int = Field(description="Times a clarifying question offered an option linking this article")
    chosen: int = Field(description="The customer chose that option")
    other_option: int = Field(description="The customer chose another intent of the same question")
    something_else: int = Field(description='"Something else", or a new message instead of a choice')
    person: int = Field(description='"Talk to a person"')
    abandoned: int = Field(description="No further message in the conversation")


class FailingArticleOut(BaseModel):
    article_id: str
    title: str | None = Field(None, description="None once the article is no longer in the served help center")
    locale: str | None = None
    url: str | None = None
    seen: int = Field(description="shown + clarify.offered: what the min_seen floor applies to")
    shown: int = Field(description="Bot answers and article suggestions that showed it as a card")
    not_helpful: int = Field(description="Showings called not helpful (this article, or the whole suggestion)")
    not_helpful_rate: float | None
    handoffs_after: int = Field(description="Showings followed by a handoff or an escalation in the conversation")
    handoff_rate: float | None
    clarify: ClarifyOutcomesOut
    clarify_success_rate: float | None = Field(description="clarify.chosen / clarify.offered")
    failures: int = Field(
        description="Showings not helpful or handed off after (once if both), plus options turned down "
        "(something else, a person, abandoned)"
    )
    failure_score: float = Field(description="failures / seen; the list is sorted by it")


class QuestionGroupOut(BaseModel):
    id: int
    size: int
    examples: list[str] = Field(description="The most central messages, PII-redacted as stored")
    terms: list[str]
    locales: dict[str, int]
    reasons: dict[str, int] = Field(description="Messages per handoff reason: no_article / out_of_scope")
    intents: dict[str, int] = Field(description="What the model read the no_article messages as, most often first")
    suggestion_ids: list[str]
    first_seen: datetime
    last_seen: datetime


class ContentGapsOut(BaseModel):
    since: datetime
    days: int
    min_seen: int
    articles_seen: int = Field(description="Articles seen at all in the period, before the min_seen floor")
    failing_articles: list[FailingArticleOut] = Field(description="Highest failure score first")
    questions_considered: int = Field(description="Messages handed off for no_article or out_of_scope")
    question_groups: list[QuestionGroupOut] = Field(description="Largest group first")
