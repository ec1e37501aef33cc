"""Conversation state: an append-only list of events per conversation (suggestions made, feedback given, history
the widget sent), kept in process or, when several workers serve together, in Redis.

Appending is the only write, so concurrent workers never overwrite each other's events. Text is stored only after
PII redaction, and a message's sentence vector only when its text held no PII. State expires after a time-to-live;
the review queue (not this module) is the durable record."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from deflect.core.vocabulary import UNHELPFUL, FeedbackKind


@dataclass
class SuggestionEvent:
    suggestion_id: str
    text: str  # PII-redacted
    locale: str
    intent: str
    intent_name: str
    confidence: float
    out_of_scope: bool
    alternatives: list[tuple[str, float]]
    articles: list[dict[str, str]]  # id, title, url
    decision: str
    reason_code: str
    reason: str
    frustration_score: float
    frustration_cues: list[str]
    answer: str | None = None
    answer_article: str | None = None  # the article the answer links
    channel: str | None = None
    page_url: str | None = None  # without its query string
    # a clarifying question: {"step", "question", "options": [{"kind", "label", "intent", "article_id"}]}
    clarification: dict[str, Any] | None = None
    chosen_from: str | None = None  # the question's suggestion id, when the customer chose an option of it
    # the details the message carried (deflect.conversation.details: kind, value, text, given); PII only as given
    details: list[dict[str, Any]] = field(default_factory=list)
    # the sentence vector of the text the reading rests on (float16, base64), when that text is a redacted one: the
    # next message is read joined to it (deflect.intent.context) without encoding this turn again
    vector: str | None = None
    at: float = field(default_factory=time.time)
    kind: Literal["suggestion"] = "suggestion"

    @property
    def sentence_vector(self) -> np.ndarray | None:
        if self.vector is None:
            return None
        return np.frombuffer(base64.b64decode(self.vector), dtype=np.float16).astype(np.float32)

    @property
    def offered(self) -> list[dict[str, Any]]:
        """The options a clarifying question offered (none for other suggestions)."""
        return list(self.clarification["options"]) if self.clarification else []

    def option_label(self, kind: str, intent: str | None = None) -> str:
        """How the question offered that option ('' if it did not)."""
        for option in self.offered:
            if option["kind"] == kind and (option["intent"] == intent or option["intent"] is None):
                return str(option["label"])
        return ""

    @property
    def shown_articles(self) -> set[str]:
        """The ids of the articles the customer saw: the suggested ones and the one the answer links."""
        return {article["id"] for article in self.articles} | ({self.answer_article} if self.answer_article else set())


@dataclass
class FeedbackEvent:
    suggestion_id: str
    feedback: FeedbackKind
    article_id: str | None = None
    at: float = field(default_factory=time.time)
    kind: Literal["feedback"] = "feedback"


@dataclass
class HistoryEvent:
    """Turns the client sent that this service did not see (the conversation began elsewhere), PII-redacted: the
    client's word, not this service's record."""

    turns: list[dict[str, str]]  # role, text
    at: float = field(default_factory=time.time)
    kind: Literal["history"] = "history"


@dataclass
class OpenedEvent:
    """The conversation's first event: the API key that started it (deflect.conversation.access)."""

    owner: str  # key id
    at: float = field(default_factory=time.time)
    kind: Literal["opened"] = "opened"


Event = SuggestionEvent | FeedbackEvent | HistoryEvent | OpenedEvent
_EVENT_TYPES: dict[str, type] = {
    "suggestion": SuggestionEvent,
    "feedback": FeedbackEvent,
    "history": HistoryEvent,
    "opened": OpenedEvent,
}


def packed_vector(vector: np.ndarray) -> str:
    """A sentence vector as a SuggestionEvent keeps it."""
    return base64.b64encode(np.asarray(vector, dtype=np.float16).tobytes()).decode("ascii")


def encode_event(event: Event) -> str:
    return json.dumps(event.__dict__, ensure_ascii=False, separators=(",", ":"))


def decode_event(payload: str | bytes) -> Event:
    fields: dict[str, Any] = json.loads(payload)
    event = _EVENT_TYPES[fields["kind"]](**fields)
    if isinstance(event, SuggestionEvent):
        event.alternatives = [(str(intent), float(score)) for intent, score in event.alternatives]
    return event


@dataclass
class Conversation:
    id: str
    events: list[Event]

    @property
    def suggestions(self) -> list[SuggestionEvent]:
        return [e for e in self.events if isinstance(e, SuggestionEvent)]

    @property
    def feedback(self) -> list[FeedbackEvent]:
        return [e for e in self.events if isinstance(e, FeedbackEvent)]

    @property
    def owner(self) -> str | None:
        """The key that started the conversation (None: state from before conversations had owners)."""
        return next((e.owner for e in self.events if isinstance(e, OpenedEvent)), None)

    @property
    def unhelpful_feedback(self) -> int:
        return sum(e.feedback in UNHELPFUL for e in self.feedback)

    def suggestion(self, suggestion_id: str) -> SuggestionEvent | None:
        return next((s for s in self.suggestions if s.suggestion_id == suggestion_id), None)

    def feedback_on(self, suggestion_id: str) -> list[str]:
        return [e.feedback for e in self.feedback if e.suggestion_id == suggestion_id]

    @property
    def locale(self) -> str | None:
        suggestions = self.suggestions
        return suggestions[-1].locale if suggestions else None


class ConversationStore(Protocol):
    def append(self, conversation_id: str, event: Event) -> None: ...

    def get(self, conversation_id: str) -> Conversation | None: ...

    def conversation_of(self, suggestion_id: str) -> str | None: ...

    def delete(self, conversation_id: str) -> bool:
        """Forget a conversation now (a deletion request); True if there was one."""
        ...

    def ping(self) -> bool: ...


class MemoryConversationStore:
    """One process's conversations, the least recently active dropped past `max_conversations` or `ttl_seconds`."""

    def __init__(self, ttl_seconds: float, max_conversations: int = 100_000):
        self.ttl_seconds = ttl_seconds
        self.max_conversations = max_conversations
        self._events: OrderedDict[str, tuple[float, list[Event]]] = OrderedDict()
        self._suggestions: dict[str, str] = {}
        self._lock = threading.Lock()

    def append(self, conversation_id: str, event: Event) -> None:
        with self._lock:
            _, events = self._events.pop(conversation_id, (0.0, []))
            events.append(event)
            self._events[conversation_id] = (time.monotonic(), events)
            if isinstance(event, SuggestionEvent):
                self._suggestions[event.suggestion_id] = conversation_id
            self._expire()

    def _expire(self) -> None:
        oldest_allowed = time.monotonic() - self.ttl_seconds
        while self._events:
            conversation_id, (last_active, events) = next(iter(self._events.items()))
            if last_active >= oldest_allowed and len(self._events) <= self.max_conversations:
                break
            del self._events[conversation_id]
            for event in events:
                if isinstance(event, SuggestionEvent):
                    self._suggestions.pop(event.suggestion_id, None)

    def get(self, conversation_id: str) -> Conversation | None:
        with self._lock:
            self._expire()
            entry = self._events.get(conversation_id)
            return None if entry is None else Conversation(conversation_id, list(entry[1]))

    def conversation_of(self, suggestion_id: str) -> str | None:
        with self._lock:
            return self._suggestions.get(suggestion_id)

    def delete(self, conversation_id: str) -> bool:
        with self._lock:
            entry = self._events.pop(conversation_id, None)
            for event in entry[1] if entry else []:
                if isinstance(event, SuggestionEvent):
                    self._suggestions.pop(event.suggestion_id, None)
            return entry is not None

    def ping(self) -> bool:
        return True


class RedisConversationStore:
    """Conversations shared by every worker and replica: a Redis list of JSON events per conversation and a key
    from each suggestion id to its conversation, all expiring `ttl_seconds` after the last event."""

    def __init__(self, url: str, ttl_seconds: float, prefix: str = "deflect:"):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self.ttl = max(1, int(ttl_seconds))
        self.prefix = prefix

    def _events_key(self, conversation_id: str) -> str:
        return f"{self.prefix}conversation:{conversation_id}"

    def _suggestion_key(self, suggestion_id: str) -> str:
        return f"{self.prefix}suggestion:{suggestion_id}"

    def append(self, conversation_id: str, event: Event) -> None:
        key = self._events_key(conversation_id)
        pipeline = self.client.pipeline(transaction=True)
        pipeline.rpush(key, encode_event(event))
        pipeline.expire(key, self.ttl)
        if isinstance(event, SuggestionEvent):
            pipeline.set(self._suggestion_key(event.suggestion_id), conversation_id, ex=self.ttl)
        pipeline.execute()

    def get(self, conversation_id: str) -> Conversation | None:
        payloads = self.client.lrange(self._events_key(conversation_id), 0, -1)
        if not payloads:
            return None
        return Conversation(conversation_id, [decode_event(p) for p in payloads])  # type: ignore[union-attr]

    def conversation_of(self, suggestion_id: str) -> str | None:
        value = self.client.get(self._suggestion_key(suggestion_id))
        return None if value is None else value.decode() if isinstance(value, bytes) else str(value)

    def delete(self, conversation_id: str) -> bool:
        conversation = self.get(conversation_id)
        if conversation is None:
            return False
        keys = [self._suggestion_key(s.suggestion_id) for s in conversation.suggestions]
        self.client.delete(self._events_key(conversation_id), *keys)
        return True

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except Exception:  # any connection failure means not ready
            return False
