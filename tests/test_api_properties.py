"""Property-based: schemathesis generates requests from the app's own OpenAPI schema (valid and invalid bodies,
odd strings, every route) and no answer may be a server error; plus the odd inputs a chat widget really sends."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex

ADMIN_KEY: dict[str, str] = {}


@pytest.fixture(scope="module")
def app(demo_model: IntentModel, demo_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    folder = tmp_path_factory.mktemp("properties")
    shutil.copytree(demo_index_dir, folder / "index")
    configured = Settings(
        index_dir=folder / "index",
        api_keys_file=folder / "keys.json",
        answers_overrides_file=folder / "answers.json",
    )
    ADMIN_KEY["value"], _ = KeyStore(configured.api_keys_file).create("admin", Role.ADMIN)
    index = ArticleIndex.load(configured.index_dir, encoder=demo_model.encoder)
    return create_app(configured, Suggester(demo_model, index, configured))


@pytest.fixture(scope="module")
def client(app: FastAPI) -> TestClient:
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY['value']}"}) as test_client:
        yield test_client  # type: ignore[misc]


def test_no_generated_request_gets_a_server_error(app: FastAPI, client: TestClient) -> None:
    """Every operation of the schema, 30 generated requests each (valid, boundary and malformed values)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {ADMIN_KEY['value']}"}
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def no_server_error(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
            if response.status_code >= 400:
                assert response.json()["error"]["message"]

        no_server_error()
        checked.append(f"{operation.method.upper()} {operation.path}")

    assert "POST /v1/suggest" in checked and "PUT /admin/articles/{article_id}" in checked


@pytest.mark.parametrize(
    "text",
    [
        "🙂🙂🙂 배송 언제 와요? 🚚",
        "null\x00byte in the middle",
        "택배 where is it 荷物 どこ посылка",
        "ㅋㅋㅋㅋㅋㅋㅋㅋ",
        "?!?!?!?!",
        "a" * 2000,
        "\u200b\u200b배송\u200b조회",
        "<script>alert(1)</script> 환불",
    ],
)
def test_odd_text_gets_a_clear_answer(client: TestClient, text: str) -> None:
    response = client.post("/v1/suggest", json={"text": text})

    assert response.status_code == 200, response.text
    assert response.json()["decision"] in {"bot_answer", "suggest_articles", "handoff"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": ""}, 422),
        ({"text": "\x00\x00 \t"}, 422),
        ({"text": "a" * 2001}, 422),
        ({"text": "가" * 100_000}, 413),
        ({"text": "hi", "history": [{"role": "customer", "text": "x"}] * 51}, 422),
        ({"text": "hi", "conversation_id": "has spaces and / slashes"}, 422),
    ],
)
def test_bad_text_gets_a_clear_error(client: TestClient, body: dict, status: int) -> None:
    response = client.post("/v1/suggest", json=body)

    assert response.status_code == status and response.json()["error"]["message"]
