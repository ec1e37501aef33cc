"""POST /v1/suggest and friends through the real app: packaged encoder, trained head, FAISS index."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from deflect.retrieval.index import ArticleIndex
from deflect.serving.app import create_app
from deflect.serving.suggester import Suggester
from deflect.training.model import IntentModel
from fastapi.testclient import TestClient

from deflect.settings import Settings


@pytest.fixture(scope="module")
def client(demo_model: IntentModel, demo_index: ArticleIndex) -> Iterator[TestClient]:
    settings = Settings()
    with TestClient(create_app(settings, Suggester(demo_model, demo_index, settings))) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("text", "intent", "locale"),
    [
        ("택배가 어디에 있나요?", "delivery_status", "ko"),
        ("배송이 아직 도착하지 않았어요", "delivery_status", "ko"),
        ("쿠폰 등록은 어디서 해요?", "coupon_usage", "ko"),
        ("where is my package??", "delivery_status", "en"),
        ("how do i reset my password", "password_reset", "en"),
    ],
)
def test_suggest_finds_intent_and_article_in_the_customers_language(
    client: TestClient, text: str, intent: str, locale: str
) -> None:
    response = client.post("/v1/suggest", json={"text": text})

    assert response.status_code == 200
    body = response.json()
    assert body["locale"] == locale and body["locale_detected"] is True
    assert body["intent"]["intent"] == intent and not body["out_of_scope"]
    assert 1 <= len(body["articles"]) <= 3
    assert all(article["locale"] == locale for article in body["articles"])
    assert intent in {
        i for a in body["articles"][:1] for i in client.app.state.suggester.index.articles[a["id"]].intents
    }
    assert body["decision"] in ("bot_answer", "suggest_articles")
    assert [a["intent"] for a in body["alternatives"]][0] == intent and len(body["alternatives"]) == 3


def test_confident_answer_carries_the_article_passage(client: TestClient) -> None:
    body = client.post("/v1/suggest", json={"text": "택배가 어디에 있나요?", "locale": "ko"}).json()

    assert body["decision"] == "bot_answer" and body["reason_code"] == "confident"
    assert body["answer"]["article_id"] == body["articles"][0]["id"]
    assert body["answer"]["url"].startswith("https://help.haneulmarket.example/ko/")
    assert body["intent"]["name"] == "배송 조회"


def test_out_of_scope_message_is_handed_off(client: TestClient) -> None:
    body = client.post("/v1/suggest", json={"text": "what's the weather like in Busan tomorrow?"}).json()

    assert body["out_of_scope"] is True
    assert body["decision"] == "handoff" and body["reason_code"] == "out_of_scope"
    assert "threshold" in body["reason"]


def test_asking_for_a_person_is_handed_off(client: TestClient) -> None:
    body = client.post("/v1/suggest", json={"text": "상담원 연결해 주세요"}).json()

    assert body["intent"]["intent"] == "talk_to_agent"
    assert body["decision"] == "handoff" and body["reason_code"] == "handoff_intent"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "body.text"),
        ({"text": ""}, "body.text"),
        ({"text": "   \n\t "}, "body.text"),
        ({"text": 12}, "body.text"),
        ({"text": "hi", "locale": "fr"}, "body.locale"),
        ({"text": "hi", "unexpected": 1}, "body.unexpected"),
        ({"text": "x" * 2001}, "body.text"),
    ],
)
def test_malformed_requests_get_422_with_a_json_error(client: TestClient, payload: dict, field: str) -> None:
    response = client.post("/v1/suggest", json=payload)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in [detail["field"] for detail in error["details"]]


def test_invalid_json_body_is_a_422_not_a_500(client: TestClient) -> None:
    response = client.post("/v1/suggest", content=b'{"text": ', headers={"content-type": "application/json"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_health_and_openapi(client: TestClient) -> None:
    health = client.get("/healthz").json()
    schema = client.get("/openapi.json").json()

    assert health["status"] == "ok" and health["model_version"] and health["index_version"]
    assert "/v1/suggest" in schema["paths"]
    assert client.get("/docs").status_code == 200
    assert client.get("/nope").json()["error"]["code"] == "not_found"
