"""All configuration in one object, read from `DEFLECT_*` environment variables (or a `.env` file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from deflect.core.demo import DEMO_ANSWERS, DEMO_DETAILS, DEMO_ROUTING


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEFLECT_", env_file=".env", extra="ignore", populate_by_name=True)

    model_dir: Path = Field(Path("models/demo"), description="Intent model artifact folder to serve")
    index_dir: Path = Field(Path("indexes/demo"), description="Article index folder to serve")
    shadow_model_dir: Path | None = Field(
        None, description="A candidate model scoring live traffic beside the active one, without changing answers"
    )
    shadow_index_dir: Path | None = Field(None, description="The shadow model's index (built with its encoder)")
    host: str = "127.0.0.1"
    port: int = 8000
    threads: int | None = Field(None, description="Encoder threads; default: the library's own choice")
    encoder_runtime: Literal["auto", "native", "onnx"] = Field(
        "auto",
        description="Encoder runtime: the model's int8 ONNX export if `deflect optimize` made one (auto), the "
        "original encoder (native), or the export, required (onnx)",
    )
    max_batch_size: int = Field(32, ge=1, le=256, description="Concurrent requests' texts encoded in one batch")

    fallback_locale: str = Field("en", description="Locale when a message has no letters to detect one from")
    suggestions: int = Field(3, ge=1, le=10, description="Articles returned per suggestion")
    search_mode: Literal["hybrid", "dense", "lexical"] = Field("hybrid", description="Article retrieval mode")
    fusion: Literal["weighted", "rrf"] = Field("weighted", description="How dense and BM25 rankings combine")
    lexical_weight: float = Field(0.05, ge=0.0, description="Weighted fusion: BM25 share (normalised)")
    intent_boost: float = Field(
        0.1, ge=0.0, description="Score added to articles linked to the predicted intent, × its probability"
    )
    answer_threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="Confidence needed for a bot answer; default: the model artifact's"
    )
    handoff_intents: list[str] = Field(
        default_factory=lambda: ["talk_to_agent", "complaint", "account_hacked"],
        description="Intents always handed to a person",
    )
    never_answer_intents: list[str] = Field(
        default_factory=list, description="Intents never answered automatically (articles are still suggested)"
    )
    intent_answer_thresholds: dict[str, float] = Field(
        default_factory=dict, description='Per-intent confidence needed for a bot answer, e.g. {"refund_status": 0.9}'
    )
    handoff_after_unhelpful: int = Field(
        2, ge=0, description="Hand off once this many suggestions in a conversation were not helpful (0: never)"
    )
    frustration_handoff_score: float | None = Field(
        0.6, ge=0.0, le=1.0, description="Hand off at this frustration score or above (null: never for frustration)"
    )
    clarify: bool = Field(True, description="Ask the customer when the top intents are too close or unsure")
    clarify_margin: float | None = Field(
        None, ge=0.0, le=1.0, description="Ask when the best intent leads the runner-up by less; default: the model's"
    )
    clarify_floor: float | None = Field(
        None, ge=0.0, le=1.01, description="Ask rather than suggest from this confidence up; default: the model's"
    )
    clarify_turns: int = Field(
        2, ge=0, le=5, description="Clarifying questions in a row (choose, then rephrase) before handing off"
    )
    context: bool = Field(
        True,
        description="Read a message with the previous turn (when the model has a context gate) and map typed replies "
        "to a clarifying question's options",
    )
    handoff_webhook_url: str | None = Field(None, description="POST each conversation's handoff package here")
    handoff_webhook_secret: str | None = Field(None, description="HMAC-SHA256 key signing webhook deliveries")
    webhook_max_attempts: int = Field(
        8, ge=1, le=50, description="Delivery attempts before a delivery is dead-lettered"
    )
    webhook_backoff_seconds: float = Field(1.0, gt=0, description="Wait before the first retry; doubles each time")
    webhook_max_backoff_seconds: float = Field(600.0, gt=0, description="The longest wait between two attempts")
    webhook_timeout_seconds: float = Field(
        5.0, gt=0, description="An attempt the receiver has not answered within this is retried"
    )
    outbox_lease_seconds: float = Field(
        60.0, gt=0, description="How long a worker holds a delivery it is sending before another may take it over"
    )
    zendesk_url: str | None = Field(None, description="https://<subdomain>.zendesk.com: each handoff becomes a ticket")
    zendesk_email: str | None = Field(None, description="The Zendesk agent the API token belongs to")
    zendesk_api_token: str | None = Field(None, description="Zendesk API token (Admin Center › Apps › Zendesk API)")
    zendesk_fields: dict[str, int] = Field(
        default_factory=dict,
        description="Ticket custom field ids for intent, team, queue, conversation_id, confidence, reason (JSON)",
    )
    zendesk_groups: dict[str, int] = Field(default_factory=dict, description="Deflect team → Zendesk group id (JSON)")
    zendesk_public_comment: bool = Field(
        False, description="Post the transcript as a public comment instead of an internal note"
    )
    chatwoot_url: str | None = Field(
        None, description="The Chatwoot installation Deflect answers as an Agent Bot (https://app.chatwoot.com, …)"
    )
    chatwoot_api_token: str | None = Field(None, description="The Agent Bot's access token (api_access_token)")
    chatwoot_webhook_secret: str | None = Field(
        None, description="When set, webhooks must carry a valid X-Chatwoot-Signature under this secret"
    )
    chatwoot_teams: dict[str, int] = Field(default_factory=dict, description="Deflect team → Chatwoot team id (JSON)")
    kakao_handoff_block_id: str | None = Field(
        None,
        description="Kakao i Open Builder block that connects a person (상담 연결): where 상담원 연결 leads",
    )
    kakao_deadline_seconds: float = Field(
        3.5, gt=0, le=4.5, description="Answer a Kakao skill request within this (Kakao gives up after 5 s)"
    )
    answers_file: Path = Field(DEMO_ANSWERS, description="Bot answer templates per intent and language (JSON)")
    answers_overrides_file: Path = Field(
        Path(".deflect/answers.json"), description="Answer templates changed through the admin API"
    )
    routing_file: Path = Field(DEMO_ROUTING, description="Handoff routing: intent → team map and priorities (JSON)")
    details_file: Path = Field(
        DEMO_DETAILS,
        description="Details pulled from messages into the handoff package: order numbers and the like (YAML)",
    )
    redis_url: str | None = Field(
        None,
        validation_alias=AliasChoices("DEFLECT_REDIS_URL", "REDIS_URL"),
        description="Share conversation state (and rate limits) between workers through Redis; in-process if unset",
    )
    database_url: str = Field(
        "sqlite:///.deflect/deflect.db",
        validation_alias=AliasChoices("DEFLECT_DATABASE_URL", "DATABASE_URL"),
        description="Where suggestion and feedback events are stored: a SQLite file, or postgresql://…",
    )
    event_commit_batch: int = Field(
        64,
        ge=1,
        le=1024,
        description="At most this many concurrent requests' suggestions committed in one transaction (1: one each)",
    )
    event_retention_days: int = Field(
        90, ge=1, description="Stored events older than this are purged (hourly while serving; deflect events purge)"
    )
    audit_retention_days: int = Field(
        1825,
        ge=1,
        description="Audit entries (who changed what) are kept this long, past the event retention: five years",
    )
    auth_enabled: bool = Field(True, description="Require API keys (widget or admin) on the v1 and admin routes")
    api_keys_file: Path = Field(Path(".deflect/api_keys.json"), description="Hashed API keys (deflect keys create)")
    rate_limit_per_minute: int = Field(
        1200, ge=1, description="Requests per minute per API key, unless the key sets its own"
    )
    visitor_requests_per_minute: int = Field(
        300, ge=0, description="Requests per minute from one client address with a widget key (0: no limit)"
    )
    visitor_characters_per_minute: int = Field(
        30_000,
        ge=0,
        description="Characters of text (message, history, typed prefix) per minute from one client address with a "
        "widget key: long texts cost the encoder more (0: no limit)",
    )
    conversation_messages_per_minute: int = Field(
        30, ge=0, description="Messages per minute in one conversation, from any key (0: no limit)"
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="Proxies whose X-Forwarded-For names the client address (comma-separated, or *); deflect serve",
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins whose pages may call the API (the widget on your site)"
    )
    demo_widget_key: str | None = Field(
        None, description="Widget key the demo store page at / embeds (deflect serve --demo-keys sets it)"
    )
    review_session_hours: int = Field(12, ge=1, le=24 * 30, description="Review page sign-ins last this long")
    session_secret_file: Path | None = Field(
        None,
        description="Signs review page sessions and conversation tokens; made on first start (default: beside the "
        "API key file). Every worker and replica must share it",
    )
    unmet_needs_distance: float = Field(
        0.7, gt=0.0, le=2.0, description="Cosine distance below which unmet-needs messages join one cluster"
    )
    max_body_bytes: int = Field(65_536, ge=1024, description="Larger request bodies get 413")
    conversation_ttl_seconds: int = Field(86_400, ge=60, description="Conversation state expires this long after")
    analysis_cache_size: int = Field(4096, ge=0, description="Recent message analyses kept for repeated text")
    typeahead_min_chars: int = Field(4, ge=1, description="Typeahead waits for this many characters")
    typeahead_confidence: float = Field(
        0.6, ge=0.0, le=1.0, description="Typeahead shows articles only at this confidence or above"
    )
    model_registry_file: Path = Field(
        Path(".deflect/models.json"),
        description="Promoted model + index versions and which is active (deflect models promote / rollback); "
        "deflect serve serves the active one unless a model or index is given",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
