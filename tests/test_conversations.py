"""Conversation state in process and in the real Redis on 127.0.0.1:6379: append-only events that several
workers can share, found again by suggestion id, expiring after their time-to-live."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from deflect.conversation.state import (
    ConversationStore,
    FeedbackEvent,
    HistoryEvent,
    MemoryConversationStore,
    OpenedEvent,
    RedisConversationStore,
    SuggestionEvent,
)

REDIS_URL = os.environ.get("DEFLECT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _suggestion(suggestion_id: str, decision: str = "suggest_articles") -> SuggestionEvent:
    return SuggestionEvent(
        suggestion_id=suggestion_id,
        text="쿠폰이 안 돼요",
        locale="ko",
        intent="coupon_usage",
        intent_name="쿠폰 사용",
        confidence=0.71,
        out_of_scope=False,
        alternatives=[("coupon_usage", 0.71), ("points_balance", 0.12)],
        articles=[{"id": "coupon-use-ko", "title": "쿠폰 사용 방법", "url": "https://help.example/ko/coupon"}],
        decision=decision,
        reason_code="low_confidence",
        reason="…",
        frustration_score=0.1,
        frustration_cues=[],
    )


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[ConversationStore]:
    if request.param == "memory":
        yield MemoryConversationStore(ttl_seconds=3600)
        return
    redis_store = RedisConversationStore(REDIS_URL, ttl_seconds=3600, prefix=f"test-{uuid.uuid4().hex}:")
    assert redis_store.ping(), f"Redis is not answering at {REDIS_URL}"
    yield redis_store
    for key in redis_store.client.scan_iter(f"{redis_store.prefix}*"):
        redis_store.client.delete(key)


def test_events_come_back_in_order_with_their_feedback(store: ConversationStore) -> None:
    store.append("c-1", OpenedEvent(owner="key-shop"))
    store.append("c-1", HistoryEvent([{"role": "customer", "text": "안녕하세요"}]))
    store.append("c-1", _suggestion("s-1"))
    store.append("c-1", FeedbackEvent("s-1", "not_helpful"))
    store.append("c-1", _suggestion("s-2"))
    store.append("c-1", FeedbackEvent("s-2", "escalated", article_id="coupon-use-ko"))

    conversation = store.get("c-1")

    assert conversation is not None
    assert [event.kind for event in conversation.events] == [
        "opened",
        "history",
        "suggestion",
        "feedback",
        "suggestion",
        "feedback",
    ]
    assert conversation.suggestions[0].alternatives == [("coupon_usage", 0.71), ("points_balance", 0.12)]
    assert conversation.unhelpful_feedback == 2 and conversation.feedback_on("s-2") == ["escalated"]
    assert conversation.locale == "ko" and conversation.owner == "key-shop"
    assert store.conversation_of("s-2") == "c-1" and store.conversation_of("s-9") is None
    assert store.get("c-unknown") is None


def test_two_workers_share_one_redis_conversation() -> None:
    prefix = f"test-{uuid.uuid4().hex}:"
    first, second = (RedisConversationStore(REDIS_URL, 3600, prefix=prefix) for _ in range(2))

    first.append("c-7", _suggestion("s-70"))
    second.append("c-7", FeedbackEvent("s-70", "not_helpful"))

    conversation = first.get("c-7")
    assert conversation is not None and conversation.unhelpful_feedback == 1
    assert second.conversation_of("s-70") == "c-7"
    assert 0 < first.client.ttl(f"{prefix}conversation:c-7") <= 3600
    for key in first.client.scan_iter(f"{prefix}*"):
        first.client.delete(key)


def test_memory_store_drops_the_least_recently_active_conversation_past_its_bound() -> None:
    store = MemoryConversationStore(ttl_seconds=3600, max_conversations=2)
    store.append("c-a", _suggestion("s-a"))
    store.append("c-b", _suggestion("s-b"))
    store.append("c-a", FeedbackEvent("s-a", "helpful"))

    store.append("c-c", _suggestion("s-c"))

    assert store.get("c-b") is None and store.conversation_of("s-b") is None
    assert store.get("c-a") is not None and store.get("c-c") is not None


def test_an_unreachable_redis_is_reported_not_ready() -> None:
    assert RedisConversationStore("redis://127.0.0.1:1/0", ttl_seconds=60).ping() is False
