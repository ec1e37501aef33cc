"""Budgets under a key's limit, through the real app: every visitor of a site shares its widget key, so one visitor
is also counted by client address (requests and characters of text) and each conversation by its messages; in
Redis, every worker counts against the same budgets."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role
from deflect.api.limits import MemoryRateLimiter, RedisRateLimiter
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex

REDIS_URL = "redis://127.0.0.1:6379/15"
LONG_TEXT = "배송이 너무 늦어요 " * 180  # 1,980 characters: the longest message the API takes


class Site:
    """One running app with one widget key and one server key; `visitor(address)` is a browser at that address."""

    def __init__(self, settings: Settings, model: IntentModel, index: ArticleIndex, running: ExitStack):
        self.app = create_app(settings, Suggester(model, index, settings))
        keys = KeyStore(settings.api_keys_file)
        self.widget_key = keys.create("shop widget", Role.WIDGET)[0]
        self.server_key = keys.create("shop backend", Role.SERVER)[0]
        self.running = running

    def client(self, key: str, address: str) -> TestClient:
        client = TestClient(self.app, headers={"Authorization": f"Bearer {key}"}, client=(address, 50000))
        return self.running.enter_context(client)

    def visitor(self, address: str) -> TestClient:
        return self.client(self.widget_key, address)


@pytest.fixture()
def site_with(tmp_path, demo_model: IntentModel, demo_index: ArticleIndex) -> Iterator:
    with ExitStack() as running:

        def site(**limits: int) -> Site:
            settings = Settings(api_keys_file=tmp_path / f"keys-{uuid.uuid4().hex}.json", **limits)
            return Site(settings, demo_model, demo_index, running)

        yield site


def test_one_visitors_long_texts_spend_their_own_budget_not_the_sites(site_with) -> None:
    site = site_with(visitor_characters_per_minute=5_000)
    flooder, customer = site.visitor("203.0.113.7"), site.visitor("198.51.100.20")

    flood = [flooder.post("/v1/suggest", json={"text": LONG_TEXT}).status_code for _ in range(3)]
    typed = flooder.post("/v1/suggest/typeahead", json={"text": "배송 조회"})
    normal = customer.post("/v1/suggest", json={"text": "배송 조회는 어디서 해요?"})

    assert flood == [200, 200, 429] and typed.status_code == 429
    refused = flooder.post("/v1/suggest", json={"text": LONG_TEXT})
    assert refused.json()["error"]["code"] == "rate_limited" and "characters" in refused.json()["error"]["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert normal.status_code == 200


def test_history_counts_towards_the_character_budget(site_with) -> None:
    site = site_with(visitor_characters_per_minute=5_000)
    visitor = site.visitor("203.0.113.8")
    history = [{"role": "customer", "text": LONG_TEXT}] * 3

    response = visitor.post("/v1/suggest", json={"text": "환불해 주세요", "history": history})

    assert response.status_code == 429


def test_one_address_gets_its_share_of_requests_under_the_keys_limit(site_with) -> None:
    site = site_with(visitor_requests_per_minute=3)
    busy, other = site.visitor("203.0.113.9"), site.visitor("198.51.100.21")

    statuses = [busy.post("/v1/suggest/typeahead", json={"text": "비밀번호"}).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert "requests from your address" in busy.post("/v1/suggest/typeahead", json={"text": "쿠폰"}).text
    assert other.post("/v1/suggest/typeahead", json={"text": "비밀번호"}).status_code == 200


def test_a_server_integration_is_not_counted_by_address(site_with) -> None:
    """A KakaoTalk bridge sends every customer's messages from one address: its key's limit is its budget."""
    site = site_with(visitor_requests_per_minute=2, visitor_characters_per_minute=2_500)
    backend = site.client(site.server_key, "10.0.0.5")

    statuses = [
        backend.post("/v1/suggest", json={"text": LONG_TEXT, "conversation_id": f"kakao-{n}"}).status_code
        for n in range(3)
    ]

    assert statuses == [200, 200, 200]


def test_a_conversation_takes_only_so_many_messages_a_minute(site_with) -> None:
    site = site_with(conversation_messages_per_minute=2)
    backend = site.client(site.server_key, "10.0.0.6")

    same = [
        backend.post("/v1/suggest", json={"text": "환불 언제 돼요", "conversation_id": "kakao-77"}).status_code
        for _ in range(3)
    ]
    other = backend.post("/v1/suggest", json={"text": "환불 언제 돼요", "conversation_id": "kakao-78"})

    assert same == [200, 200, 429] and other.status_code == 200


def test_naming_someone_elses_conversation_does_not_spend_its_budget(site_with) -> None:
    site = site_with(conversation_messages_per_minute=2)
    customer, attacker = site.visitor("198.51.100.30"), site.visitor("203.0.113.66")
    first = customer.post("/v1/suggest", json={"text": "배송 조회"}).json()

    for _ in range(3):
        attacker.post("/v1/suggest", json={"text": "배송 조회", "conversation_id": first["conversation_id"]})
    second = customer.post(
        "/v1/suggest",
        json={
            "text": "아직 안 왔어요",
            "conversation_id": first["conversation_id"],
            "conversation_token": first["conversation_token"],
        },
    )

    assert second.status_code == 200


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_budgets_count_amounts_per_bucket_and_redis_shares_them(kind: str) -> None:
    prefix = f"test-{uuid.uuid4().hex}:"
    if kind == "memory":
        shared = MemoryRateLimiter()
        first = second = shared
    else:
        first, second = RedisRateLimiter(REDIS_URL, prefix=prefix), RedisRateLimiter(REDIS_URL, prefix=prefix)

    spent = [first.take("characters:a", 2_000, 5_000), second.take("characters:a", 2_000, 5_000)]
    over = first.take("characters:a", 2_000, 5_000)

    assert spent == [None, None] and over is not None and 1 <= over <= 60
    assert second.take("characters:b", 2_000, 5_000) is None
    if isinstance(first, RedisRateLimiter):
        for key in first.client.scan_iter(f"{prefix}*"):
            first.client.delete(key)
