"""API keys with scopes, per-key rate limits (in process and shared through the real Redis), body size limits and
CORS, through the real app."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role, Scope
from deflect.api.limits import RedisRateLimiter
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex

REDIS_URL = "redis://127.0.0.1:6379/15"


def _client(settings: Settings, model: IntentModel, index: ArticleIndex) -> TestClient:
    return TestClient(create_app(settings, Suggester(model, index, settings)))


@pytest.fixture()
def keys_file(tmp_path: Path) -> Path:
    return tmp_path / "api_keys.json"


@pytest.fixture()
def app_client(keys_file: Path, demo_model: IntentModel, demo_index: ArticleIndex) -> Iterator[TestClient]:
    settings = Settings(api_keys_file=keys_file, cors_origins=["https://shop.example"])
    with _client(settings, demo_model, demo_index) as client:
        yield client


def test_keys_are_stored_hashed_and_carry_their_roles_scopes(keys_file: Path) -> None:
    store = KeyStore(keys_file)

    widget, widget_record = store.create("site widget", Role.WIDGET)
    admin, _ = store.create("ops", Role.ADMIN)

    assert widget.startswith("dfw_") and admin.startswith("dfa_")
    assert widget not in keys_file.read_text() and admin not in keys_file.read_text()
    assert keys_file.stat().st_mode & 0o777 == 0o600
    assert store.authenticate(widget) == widget_record
    assert Scope.ADMIN not in widget_record.scopes and Scope.SUGGEST in widget_record.scopes
    assert KeyStore(keys_file).authenticate(admin) is not None  # another worker reads the same file
    assert store.authenticate(widget + "x") is None
    assert store.revoke("site widget") == 1 and store.authenticate(widget) is None


def test_requests_without_a_valid_key_are_refused(app_client: TestClient, keys_file: Path) -> None:
    missing = app_client.post("/v1/suggest", json={"text": "배송 조회"})
    wrong = app_client.post("/v1/suggest", json={"text": "배송 조회"}, headers={"Authorization": "Bearer dfw_nope"})
    widget, _ = KeyStore(keys_file).create("widget", Role.WIDGET)
    allowed = app_client.post("/v1/suggest", json={"text": "배송 조회"}, headers={"X-API-Key": widget})

    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
    assert missing.headers["www-authenticate"] == "Bearer"
    assert wrong.status_code == 401 and "unknown or revoked" in wrong.json()["error"]["message"]
    assert allowed.status_code == 200
    assert app_client.get("/healthz").status_code == 200  # probes need no key


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(app_client: TestClient, keys_file: Path) -> None:
    key, _ = KeyStore(keys_file).create("tight", Role.WIDGET, rate_limit_per_minute=3)
    headers = {"Authorization": f"Bearer {key}"}

    statuses = [app_client.post("/v1/suggest/typeahead", json={"text": "배송"}, headers=headers) for _ in range(4)]

    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    refused = statuses[-1]
    assert refused.json()["error"]["code"] == "rate_limited" and 1 <= int(refused.headers["retry-after"]) <= 60


def test_workers_sharing_redis_share_one_rate_limit() -> None:
    prefix = f"test-{uuid.uuid4().hex}:"
    first, second = RedisRateLimiter(REDIS_URL, prefix=prefix), RedisRateLimiter(REDIS_URL, prefix=prefix)

    results = [limiter.take("key:key-1", 1, 4) for limiter in (first, second, first, second, first)]

    assert results[:4] == [None] * 4 and results[4] is not None and 1 <= results[4] <= 60
    assert first.take("key:key-2", 1, 4) is None
    for key in first.client.scan_iter(f"{prefix}*"):
        first.client.delete(key)


def test_oversized_bodies_get_413_and_long_texts_422(app_client: TestClient, keys_file: Path) -> None:
    key, _ = KeyStore(keys_file).create("widget", Role.WIDGET)
    headers = {"Authorization": f"Bearer {key}"}

    huge = app_client.post("/v1/suggest", json={"text": "가" * 100_000}, headers=headers)
    chunked = app_client.post(
        "/v1/suggest",
        content=iter([b'{"text": "', b"a" * 70_000, b'"}']),
        headers={**headers, "content-type": "application/json"},
    )
    long_text = app_client.post("/v1/suggest", json={"text": "a" * 2001}, headers=headers)

    assert huge.status_code == 413 and huge.json()["error"]["code"] == "payload_too_large"
    assert chunked.status_code == 413
    assert long_text.status_code == 422 and long_text.json()["error"]["details"][0]["field"] == "body.text"


def test_cors_allows_only_the_listed_origins(app_client: TestClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }

    allowed = app_client.options("/v1/suggest", headers={"Origin": "https://shop.example", **preflight})
    refused = app_client.options("/v1/suggest", headers={"Origin": "https://evil.example", **preflight})

    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "https://shop.example"
    assert "access-control-allow-origin" not in refused.headers


def test_the_keys_command_creates_lists_and_revokes(keys_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from deflect.cli.main import main

    assert main(["keys", "create", "--name", "shop", "--role", "admin", "--file", str(keys_file)]) == 0
    secret = capsys.readouterr().out.split(": ")[1].split()[0]
    assert KeyStore(keys_file).authenticate(secret) is not None
    assert main(["keys", "list", "--file", str(keys_file)]) == 0 and "shop" in capsys.readouterr().out
    assert main(["keys", "revoke", "--name", "nobody", "--file", str(keys_file)]) == 2
    assert "no key named" in capsys.readouterr().err
