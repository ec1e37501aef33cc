"""POST /v1/suggest and friends through the real app: packaged encoder, trained head, FAISS index."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from deflect.api.auth import Role
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex
from tests.api_clients import api_clients


@pytest.fixture(scope="module")
def clients(
    demo_model: IntentModel, demo_index: ArticleIndex, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, TestClient]]:
    settings = Settings(api_keys_file=tmp_path_factory.mktemp("keys") / "api_keys.json")
    with api_clients(settings, demo_model, demo_index, widget=Role.WIDGET, server=Role.SERVER) as running:
        yield running


@pytest.fixture(scope="module")
def client(clients: dict[str, TestClient]) -> TestClient:
    """The app as a chat widget sees it: called with a widget key."""
    return clients["widget"]


@pytest.fixture(scope="module")
def server(clients: dict[str, TestClient]) -> TestClient:
    """The app as the shop's backend sees it: a server key, which may name its conversations."""
    return clients["server"]


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
        i for a in body["articles"][:1] for i in client.app.state.service.suggester.index.articles[a["id"]].intents
    }
    assert body["decision"] in ("bot_answer", "suggest_articles")
    assert [a["intent"] for a in body["alternatives"]][0] == intent and len(body["alternatives"]) == 3


def test_confident_answer_is_the_intents_template_in_the_customers_language(client: TestClient) -> None:
    korean = client.post("/v1/suggest", json={"text": "택배가 어디에 있나요?"}).json()
    english = client.post("/v1/suggest", json={"text": "where is my parcel right now?"}).json()

    assert korean["decision"] == "bot_answer" and korean["reason_code"] == "confident"
    assert korean["intent"]["name"] == "배송 조회"
    assert korean["answer"]["url"] == "https://help.haneulmarket.example/ko/articles/delivery-tracking"
    assert korean["answer"]["url"] in korean["answer"]["text"] and "배송" in korean["answer"]["text"]
    assert english["decision"] == "bot_answer"
    assert english["answer"]["url"] == "https://help.haneulmarket.example/en/articles/delivery-tracking"
    assert english["answer"]["text"].endswith(english["answer"]["url"])


def test_out_of_scope_message_is_handed_off(client: TestClient) -> None:
    body = client.post("/v1/suggest", json={"text": "what's the weather like in Busan tomorrow?"}).json()

    assert body["out_of_scope"] is True
    assert body["decision"] == "handoff" and body["reason_code"] == "out_of_scope"
    assert "threshold" in body["reason"]


@pytest.mark.parametrize("text", ["상담원 연결해 주세요", "can I talk to a real person about my refund"])
def test_asking_for_a_person_is_handed_off_to_the_right_team(client: TestClient, text: str) -> None:
    body = client.post("/v1/suggest", json={"text": text}).json()

    assert body["decision"] == "handoff" and body["reason_code"] == "person_requested"
    assert body["handoff"]["team"] in {"customer-care", "returns-refunds"}
    assert body["handoff"]["queue"] == f"{body['handoff']['team']}-{body['locale']}"


def test_complaints_are_always_handled_by_people(client: TestClient) -> None:
    body = client.post("/v1/suggest", json={"text": "직원 응대가 너무 불친절해서 불만 접수하려고요"}).json()

    assert body["intent"]["intent"] == "complaint"
    assert body["decision"] == "handoff" and body["reason_code"] in {"handoff_intent", "frustrated"}
    assert body["handoff"]["priority"] in {"high", "urgent"}


def test_a_frustrated_customer_is_handed_off_with_raised_priority(client: TestClient) -> None:
    body = client.post("/v1/suggest", json={"text": "배송 도대체 언제 와요?? 벌써 일주일째인데 진짜 짜증나네요"}).json()

    assert body["frustration"]["frustrated"] is True and body["frustration"]["cues"]
    assert body["decision"] == "handoff" and body["reason_code"] == "frustrated"
    assert body["handoff"] == {
        "team": "orders-delivery",
        "queue": "orders-delivery-ko",
        "language": "ko",
        "priority": "high",
        "priority_reasons": ["customer is frustrated"],
    }


def test_repeated_unhelpful_feedback_hands_the_conversation_off(client: TestClient) -> None:
    first = client.post("/v1/suggest", json={"text": "쿠폰이 적용이 안 돼요"}).json()
    conversation = {"conversation_id": first["conversation_id"], "conversation_token": first["conversation_token"]}
    token = {"conversation_token": first["conversation_token"]}
    assert first["decision"] != "handoff"

    feedback = client.post(
        "/v1/feedback", json={"suggestion_id": first["suggestion_id"], "feedback": "not_helpful", **token}
    )
    assert feedback.status_code == 200 and feedback.json()["handoff_next"] is False
    second = client.post("/v1/suggest", json={"text": "쿠폰 코드 입력해도 안 돼요", **conversation})
    assert second.json()["decision"] != "handoff"
    client.post(
        "/v1/feedback", json={"suggestion_id": second.json()["suggestion_id"], "feedback": "not_helpful", **token}
    )

    third = client.post("/v1/suggest", json={"text": "쿠폰 어떻게 써요", **conversation}).json()

    assert third["decision"] == "handoff" and third["reason_code"] == "repeated_unhelpful"
    assert third["handoff"]["priority"] == "high"


def test_handoff_package_carries_the_redacted_conversation(server: TestClient) -> None:
    history = [
        {"role": "customer", "text": "제 번호는 010-1234-5678이에요"},
        {"role": "bot", "text": "네, 확인했어요."},
    ]
    first = server.post(
        "/v1/suggest", json={"text": "환불 언제 들어와요?", "conversation_id": "c-pkg-1", "history": history}
    ).json()
    server.post("/v1/feedback", json={"suggestion_id": first["suggestion_id"], "feedback": "not_helpful"})
    server.post(
        "/v1/suggest", json={"text": "상담원이랑 얘기하고 싶어요. 메일은 kim@example.com", "conversation_id": "c-pkg-1"}
    )

    package = server.get("/v1/conversations/c-pkg-1/handoff").json()

    assert package["reason_code"] == "person_requested"
    texts = [turn["text"] for turn in package["transcript"]]
    assert texts[0] == "제 번호는 [PHONE]이에요" and texts[1] == "네, 확인했어요."
    assert [turn["client_supplied"] for turn in package["transcript"][:3]] == [True, True, False]
    assert "환불 언제 들어와요?" in texts and any("[EMAIL]" in t for t in texts)
    assert not any("010-1234-5678" in t or "kim@example.com" in t for t in texts)
    assert package["intent_history"][0]["intent"] == "refund_status"
    assert package["articles_shown"] and package["articles_shown"][0]["feedback"] == ["not_helpful"]
    assert package["feedback"] == ["not_helpful"]
    assert package["route"]["language"] == "ko"
    assert server.get("/v1/conversations/c-unknown/handoff").status_code == 404


def test_feedback_on_an_unknown_suggestion_is_a_404(client: TestClient) -> None:
    response = client.post("/v1/feedback", json={"suggestion_id": "s-nope", "feedback": "helpful"})

    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_typeahead_waits_for_clear_text(client: TestClient) -> None:
    too_short = client.post("/v1/suggest/typeahead", json={"text": "택"}).json()
    clear = client.post("/v1/suggest/typeahead", json={"text": "비밀번호를 잊어버렸"}).json()

    assert too_short["articles"] == [] and too_short["intent"] is None
    assert clear["intent"]["intent"] == "password_reset" and clear["articles"]


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


def test_health_readiness_metrics_and_openapi(client: TestClient) -> None:
    ready = client.get("/readyz")
    schema = client.get("/openapi.json").json()
    client.post("/v1/suggest", json={"text": "비밀번호 재설정"})

    assert client.get("/healthz").json() == {"status": "ok"}
    assert ready.status_code == 200 and ready.json()["status"] == "ready" and ready.json()["model_version"]
    assert 'deflect_decisions_total{decision="' in client.get("/metrics").text
    assert {
        "/v1/suggest",
        "/v1/suggest/typeahead",
        "/v1/feedback",
        "/v1/conversations/{conversation_id}/handoff",
    } <= set(schema["paths"])
    assert client.get("/docs").status_code == 200
    assert client.get("/nope").json()["error"]["code"] == "not_found"
