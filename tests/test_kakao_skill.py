"""A KakaoTalk channel talks to Deflect through a Kakao i Open Builder skill: Kakao POSTs a skill request for each
utterance and shows the skill response (format 2.0). Every response here is checked against Kakao's published
limits, as Kakao would reject it: version, at most 3 outputs and 10 quick replies, 1,000 characters of simpleText,
14-character labels, web links over http(s), list cards of 2–5 items."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex

COMPONENTS = {"simpleText", "simpleImage", "textCard", "basicCard", "listCard", "commerceCard", "itemCard", "carousel"}


def skill_request(utterance: str, user: str = "kakao-user-8f3a", extra: dict | None = None) -> dict[str, Any]:
    """A skill request as Kakao sends it (shape of the skill guide's example)."""
    return {
        "intent": {"id": "blk-fallback", "name": "폴백 블록"},
        "userRequest": {
            "timezone": "Asia/Seoul",
            "params": {"ignoreMe": "true"},
            "block": {"id": "blk-fallback", "name": "폴백 블록"},
            "utterance": utterance,
            "lang": "kr",
            "user": {
                "id": user,
                "type": "botUserKey",
                "properties": {"plusfriendUserKey": "pf-31a9", "isFriend": True},
            },
        },
        "bot": {"id": "bot-haneul", "name": "하늘마켓"},
        "action": {"id": "skill-deflect", "name": "deflect", "clientExtra": extra, "params": {}, "detailParams": {}},
        "contexts": [],
    }


def check_skill_response(body: dict[str, Any]) -> dict[str, Any]:
    """Kakao's rules for a skill response; returns the template."""
    assert body["version"] == "2.0"
    template = body["template"]
    assert 1 <= len(template["outputs"]) <= 3
    for output in template["outputs"]:
        (kind,) = output.keys()
        assert kind in COMPONENTS
        component = output[kind]
        if kind == "simpleText":
            assert 0 < len(component["text"]) <= 1000
        if kind == "textCard":
            assert len(component["title"]) <= 50 and len(component["description"]) <= 400
        if kind == "listCard":
            assert component["header"]["title"] and 2 <= len(component["items"]) <= 5
            assert all(item["link"]["web"].startswith(("http://", "https://")) for item in component["items"])
        for button in component.get("buttons", []):
            assert len(button["label"]) <= 14 and button["action"] in {"webLink", "message", "block", "phone"}
            if button["action"] == "webLink":
                assert button["webLinkUrl"].startswith(("http://", "https://"))
    replies = template.get("quickReplies", [])
    assert len(replies) <= 10
    for reply in replies:
        assert 0 < len(reply["label"]) <= 14 and reply["action"] in {"message", "block"}
        assert reply.get("blockId") if reply["action"] == "block" else reply.get("messageText")
    return template


@pytest.fixture()
def kakao(
    app_settings: Settings, demo_model: IntentModel, demo_index: ArticleIndex
) -> Iterator[tuple[TestClient, str]]:
    settings = app_settings.model_copy(update={"kakao_handoff_block_id": "blk-consult"})
    key, _ = KeyStore(settings.api_keys_file).create("kakao channel", Role.SERVER)
    with TestClient(create_app(settings, Suggester(demo_model, demo_index, settings))) as client:
        yield client, key


def _skill(client: TestClient, key: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/integrations/kakao/skill?key={key}", json=body)
    assert response.status_code == 200, response.text
    return check_skill_response(response.json())


def test_a_kakao_question_gets_the_bot_answer_with_its_article_as_a_web_link_card(kakao) -> None:
    client, key = kakao

    template = _skill(client, key, skill_request("비밀번호를 잊어버렸어요. 어떻게 재설정하나요?"))

    answer, card = template["outputs"]
    assert "{article_link}" not in answer["simpleText"]["text"]
    assert card["textCard"]["buttons"][0]["label"] == "도움말 보기"
    assert template["quickReplies"] == [
        {"label": "상담원 연결", "action": "block", "blockId": "blk-consult", "messageText": "상담원 연결"}
    ]
    suggestions = client.app.state.service.events.suggestions()  # type: ignore[attr-defined]
    assert [(s.conversation_id, s.channel, s.decision) for s in suggestions] == [
        ("kakao-kakao-user-8f3a", "kakao", "bot_answer")
    ]


def test_a_clarifying_question_becomes_quick_replies_whose_tap_is_answered_as_the_choice(
    app_settings: Settings, demo_model: IntentModel, demo_index: ArticleIndex
) -> None:
    settings = app_settings.model_copy(update={"clarify_margin": 1.0, "clarify_floor": 0.0})
    key, _ = KeyStore(settings.api_keys_file).create("kakao channel", Role.SERVER)
    with TestClient(create_app(settings, Suggester(demo_model, demo_index, settings))) as client:
        question = _skill(client, key, skill_request("반품 보냈는데 돈이 안 들어왔어요"))
        replies = question["quickReplies"]
        refund = next(
            r for r in replies if (r.get("extra") or {}).get("deflect_choice", {}).get("intent") == "refund_status"
        )
        tapped = _skill(client, key, skill_request(refund["messageText"], extra=refund["extra"]))
        stale = _skill(client, key, skill_request(refund["messageText"], extra=refund["extra"]))

    assert question["outputs"][0]["simpleText"]["text"] == "어떤 내용을 도와드릴까요?"
    assert replies[-1]["label"] == "상담원 연결" and len(replies) >= 3
    assert tapped["outputs"][0]["simpleText"]["text"] and "textCard" in tapped["outputs"][1]
    assert stale["outputs"]  # an option tapped twice is read as what it says, not refused


def test_asking_for_a_person_hands_off_to_the_consult_block_and_the_helpdesk(kakao) -> None:
    client, key = kakao

    template = _skill(client, key, skill_request("상담원 연결해 주세요", user="kakao-user-77"))
    package = client.get(
        "/v1/conversations/kakao-kakao-user-77/handoff", headers={"Authorization": f"Bearer {key}"}
    ).json()

    assert "상담원" in template["outputs"][0]["simpleText"]["text"]
    assert template["quickReplies"][0]["blockId"] == "blk-consult"
    assert package["reason_code"] == "person_requested" and package["transcript"][0]["text"] == "상담원 연결해 주세요"


def test_kakao_s_calls_are_authenticated_validated_and_never_answered_late(
    kakao, app_settings: Settings, demo_model: IntentModel, demo_index: ArticleIndex
) -> None:
    client, key = kakao
    widget, _ = KeyStore(app_settings.api_keys_file).create("site widget", Role.WIDGET)

    anonymous = client.post("/integrations/kakao/skill", json=skill_request("배송 언제 와요?"))
    by_header = client.post(
        "/integrations/kakao/skill", json=skill_request("배송 언제 와요?"), headers={"Authorization": f"Bearer {key}"}
    )
    by_widget = client.post(f"/integrations/kakao/skill?key={widget}", json=skill_request("배송 언제 와요?"))
    malformed = client.post(f"/integrations/kakao/skill?key={key}", json={"userRequest": {"utterance": "hi"}})

    assert anonymous.status_code == 401 and by_header.status_code == 200
    assert by_widget.status_code == 403 and by_widget.json()["error"]["code"] == "forbidden"
    assert malformed.status_code == 422 and "user" in malformed.text

    hurried = app_settings.model_copy(update={"kakao_deadline_seconds": 0.000001})
    with TestClient(create_app(hurried, Suggester(demo_model, demo_index, hurried))) as late:
        template = check_skill_response(
            late.post(f"/integrations/kakao/skill?key={key}", json=skill_request("배송 언제 와요?")).json()
        )
    assert "잠시 후" in template["outputs"][0]["simpleText"]["text"]
    assert template["quickReplies"][0]["label"] == "상담원 연결"
