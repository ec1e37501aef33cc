"""Request and response shapes of the v1 API (they are what the OpenAPI page documents)."""

from __future__ import annotations

from typing import Literal

from deflect.data.text import normalize_text
from pydantic import BaseModel, ConfigDict, Field, field_validator

Locale = Literal["ko", "en"]
MAX_TEXT_CHARS = 2000


class SuggestRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"text": "택배가 어디에 있나요?"}, {"text": "where is my parcel", "locale": "en"}]
        },
    )

    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="The customer's message")
    locale: Locale | None = Field(None, description="The customer's language; detected from the text when absent")

    @field_validator("text")
    @classmethod
    def text_has_content(cls, value: str) -> str:
        if not normalize_text(value):
            raise ValueError("text is empty once whitespace and control characters are removed")
        return value


class IntentScore(BaseModel):
    intent: str = Field(description="Intent id")
    name: str = Field(description="Display name in the response locale")
    confidence: float = Field(ge=0.0, le=1.0, description="Calibrated probability")


class ArticleSuggestion(BaseModel):
    id: str
    title: str
    url: str
    snippet: str
    score: float
    locale: str


class BotAnswer(BaseModel):
    text: str = Field(description="The passage of the article that answers the message")
    article_id: str
    url: str


class SuggestResponse(BaseModel):
    locale: Locale
    locale_detected: bool = Field(description="True when the locale was detected rather than given")
    intent: IntentScore = Field(description="The best in-scope intent (also when the message is out of scope)")
    alternatives: list[IntentScore] = Field(description="The top intents, best first (the best one included)")
    out_of_scope: bool
    articles: list[ArticleSuggestion]
    decision: Literal["bot_answer", "suggest_articles", "handoff"]
    reason_code: str = Field(description="Machine-readable reason: out_of_scope, handoff_intent, confident, …")
    reason: str = Field(description="Human-readable reason for the decision")
    answer: BotAnswer | None = Field(None, description="Present when decision is bot_answer")
    model_version: str
    index_version: str


class HealthResponse(BaseModel):
    status: Literal["ok"]
    model_version: str
    index_version: str


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorResponse(BaseModel):
    error: ErrorBody
