"""Deflect as a Chatwoot Agent Bot: Chatwoot POSTs its webhook events to Deflect, and Deflect answers through
Chatwoot's API from the outbox. The stand-in for Chatwoot answers as its API does — the `api_access_token` header
(401 `{"error": "Invalid Access Token"}` without it), messages `POST …/conversations/{id}/messages` with
`content_type` text / cards / input_select and their `content_attributes.items`, `GET` of the same route as
`{"meta", "payload"}` with integer message types, `toggle_status` answering `current_status`, team `assignments`,
404 for an unknown conversation, and 429 "Retry later" as plain text — and keeps each conversation as Chatwoot
would show it. Handoffs also become Zendesk tickets here, so one test covers a handoff fanned out to both."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from live_server import address, http_receiver, wait_for
from test_zendesk_connector import EMAIL, TOKEN, FakeZendesk

from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex
from deflect.store.outbox import DeliveryView, Outbox

BOT_TOKEN = "cw-bot-token-51c2"
WEBHOOK_SECRET = "cw-webhook-secret"
ACCOUNT = 3
CONTENT_TYPES = {"text", "input_select", "cards", "form", "article", "input_email", "input_csat"}
ROUTE = re.compile(r"^/api/v1/accounts/(\d+)/conversations/(\d+)/(messages|toggle_status|assignments)$")
TEAMS = {
    "orders-delivery": 11,
    "returns-refunds": 12,
    "payments": 13,
    "accounts-security": 14,
    "membership-rewards": 15,
    "customer-care": 16,
}


class FakeChatwoot:
    """Chatwoot's application API for one account: conversations with their messages and status. `answers` are
    scripted replies to the next message posts — a status, or "stall" to store the message and answer too late."""

    def __init__(self, conversations: dict[int, str], answers: list[int | str] | None = None):
        self.status = dict(conversations)  # display id → status
        self.messages: dict[int, list[dict[str, Any]]] = {c: [] for c in conversations}
        self.teams: dict[int, int] = {}
        self.answers = list(answers or [])
        self.next_id = 5000
        self.lock = threading.Lock()
        chatwoot = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, method: str) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                status, answer = chatwoot.answer(method, self.path, self.headers.get("api_access_token"), body)
                if status == "stall":
                    time.sleep(1.5)  # past the sender's timeout: the message is kept, its answer lost
                    status, answer = 200, {}
                encoded = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
                self.send_response(int(status))
                kind = "text/plain" if isinstance(answer, str) else "application/json"
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http_receiver(Handler)

    def answer(self, method: str, path: str, token: str | None, body: Any) -> tuple[int | str, Any]:
        if token != BOT_TOKEN:
            return 401, {"error": "Invalid Access Token"}
        match = ROUTE.match(path)
        if match is None or int(match[1]) != ACCOUNT or int(match[2]) not in self.status:
            return 404, {"error": "Resource could not be found"}
        conversation, action = int(match[2]), match[3]
        with self.lock:
            if action == "toggle_status":
                assert body["status"] in ("open", "resolved", "pending", "snoozed")
                self.status[conversation] = body["status"]
                payload = {"success": True, "conversation_id": conversation, "current_status": body["status"]}
                return 200, {"meta": {}, "payload": payload}
            if action == "assignments":
                self.teams[conversation] = body["team_id"]
                return 200, {"id": body["team_id"], "name": "team"}
            if method == "GET":
                return 200, {"meta": {"contact": {}}, "payload": self.messages[conversation][-20:]}
            problem = self._invalid(body)
            if problem:
                return 422, {"error": problem}
            scripted = self.answers.pop(0) if self.answers else 200
            if scripted == 429:
                return 429, "Retry later"
            self.next_id += 1
            message = {
                "id": self.next_id,
                "content": body["content"],
                "message_type": {"incoming": 0, "outgoing": 1}[body.get("message_type", "outgoing")],
                "private": body.get("private", False),
                "content_type": body.get("content_type", "text"),
                "content_attributes": body.get("content_attributes", {}),
                "conversation_id": conversation,
            }
            self.messages[conversation].append(message)
            return scripted, message

    @staticmethod
    def _invalid(body: dict[str, Any]) -> str | None:
        if body.get("content_type", "text") not in CONTENT_TYPES:
            return "Content type is not included in the list"
        items = (body.get("content_attributes") or {}).get("items")
        if body.get("content_type") == "cards":
            if not items or any(not i.get("title") or not i.get("actions") for i in items):
                return "cards need items with a title and actions"
            if any(a["type"] != "link" or not a["uri"].startswith("http") for i in items for a in i["actions"]):
                return "a card's link action needs a uri"
        if body.get("content_type") == "input_select" and (not items or any("value" not in i for i in items)):
            return "input_select needs items with a title and value"
        if not body.get("content"):
            return "Content can't be blank"
        return None

    def add_incoming(self, conversation: int, text: str) -> int:
        with self.lock:
            self.next_id += 1
            self.messages[conversation].append(
                {"id": self.next_id, "content": text, "message_type": 0, "private": False, "content_type": "text"}
            )
            return self.next_id


def event(
    chatwoot: FakeChatwoot, conversation: int, text: str, channel: str = "Channel::WebWidget", **fields: Any
) -> dict[str, Any]:
    """A `message_created` webhook for a contact's message, shaped as Chatwoot sends it to an Agent Bot."""
    message_id = chatwoot.add_incoming(conversation, text)
    return {
        "event": "message_created",
        "id": message_id,
        "content": text,
        "created_at": "2026-12-07T02:11:09.000Z",
        "message_type": "incoming",
        "content_type": "text",
        "content_attributes": {},
        "source_id": None,
        "private": False,
        "sender": {"id": 901, "name": "김민지", "email": "minji@example.com", "type": "contact"},
        "conversation": {
            "id": conversation,
            "status": chatwoot.status[conversation],
            "channel": channel,
            "inbox_id": 7,
            "additional_attributes": {"browser_language": "ko"},
        },
        "account": {"id": ACCOUNT, "name": "하늘마켓"},
        "inbox": {"id": 7, "name": "웹사이트"},
        **fields,
    }


def _app(tmp_path: Path, chatwoot: FakeChatwoot, model: IntentModel, index: ArticleIndex, **extra: Any) -> TestClient:
    settings = Settings(
        api_keys_file=tmp_path / "keys.json",
        answers_overrides_file=tmp_path / "answers.json",
        database_url=f"sqlite:///{tmp_path / 'events.db'}",
        chatwoot_url=address(chatwoot.server),
        chatwoot_api_token=BOT_TOKEN,
        chatwoot_teams=TEAMS,
        webhook_backoff_seconds=0.05,
        webhook_max_backoff_seconds=0.2,
        webhook_timeout_seconds=0.5,
        **extra,
    )
    keys = KeyStore(settings.api_keys_file)
    key, _ = keys.create("chatwoot agent bot", Role.SERVER)
    admin, _ = keys.create("ops", Role.ADMIN)
    client = TestClient(create_app(settings, Suggester(model, index, settings)))
    client.key, client.admin = key, admin  # type: ignore[attr-defined]
    return client


def _post(client: TestClient, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = client.post(f"/integrations/chatwoot/webhook?key={client.key}", json=body, headers=headers)  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    return response.json()


def _bot_messages(chatwoot: FakeChatwoot, conversation: int) -> list[dict[str, Any]]:
    return [m for m in chatwoot.messages[conversation] if m["message_type"] == 1]


def _deliveries(client: TestClient) -> list[DeliveryView]:
    return Outbox(client.app.state.service.events).list()  # type: ignore[attr-defined]


def _all_delivered(client: TestClient) -> bool:
    deliveries = _deliveries(client)
    return bool(deliveries) and all(d.status == "delivered" for d in deliveries)


def test_a_question_is_answered_in_its_conversation_once_through_a_rate_limit_and_a_lost_answer(
    tmp_path: Path, demo_model: IntentModel, demo_index: ArticleIndex
) -> None:
    chatwoot = FakeChatwoot({41: "pending"}, answers=[429, "stall"])
    try:
        with _app(tmp_path, chatwoot, demo_model, demo_index) as client:
            question = event(chatwoot, 41, "비밀번호를 잊어버렸어요. 어떻게 재설정하나요?")
            queued = _post(client, question)
            again = _post(client, question)  # Chatwoot delivered the same event twice
            wait_for(lambda: _all_delivered(client))
            (delivery,) = _deliveries(client)
    finally:
        chatwoot.server.shutdown()

    assert queued["status"] == "queued" and queued["decision"] == "bot_answer"
    assert again == {"status": "duplicate", "delivery_id": queued["delivery_id"]}
    assert delivery.topic == "reply" and delivery.target == "chatwoot" and delivery.attempts == 3
    assert delivery.conversation_id == f"chatwoot-{ACCOUNT}-41"
    (answer,) = _bot_messages(chatwoot, 41)  # a 429, then an answer lost to a timeout: still posted once
    assert answer["private"] is False and answer["content_type"] == "text"
    assert "{article_link}" not in answer["content"] and "](https://help.haneulmarket.example/" in answer["content"]
    assert chatwoot.status[41] == "pending"  # the bot keeps the conversation it answered


def test_articles_are_cards_in_the_web_widget_and_links_in_channels_without_cards(
    tmp_path: Path, demo_model: IntentModel, demo_index: ArticleIndex
) -> None:
    chatwoot = FakeChatwoot({42: "pending", 43: "pending"})
    try:
        with _app(tmp_path, chatwoot, demo_model, demo_index) as client:
            admin = {"Authorization": f"Bearer {client.admin}"}  # type: ignore[attr-defined]
            assert client.delete("/admin/answers/delivery_status", headers=admin).status_code == 204
            widget = _post(client, event(chatwoot, 42, "택배가 어디에 있나요?"))
            api_inbox = _post(client, event(chatwoot, 43, "택배가 어디에 있나요?", channel="Channel::Api"))
            wait_for(lambda: len(_deliveries(client)) == 2 and _all_delivered(client))
    finally:
        chatwoot.server.shutdown()

    assert widget["decision"] == api_inbox["decision"] == "suggest_articles"
    (cards,) = _bot_messages(chatwoot, 42)
    assert cards["content_type"] == "cards" and 1 <= len(cards["content_attributes"]["items"]) <= 5
    first = cards["content_attributes"]["items"][0]
    assert first["actions"][0] == {"type": "link", "text": "도움말 보기", "uri": first["actions"][0]["uri"]}
    (links,) = _bot_messages(chatwoot, 43)
    assert links["content_type"] == "text" and "- [" in links["content"] and "](https://" in links["content"]


def test_a_clarifying_question_is_an_input_select_whose_option_picked_comes_back_as_the_choice(
    tmp_path: Path, demo_model: IntentModel, demo_index: ArticleIndex
) -> None:
    chatwoot = FakeChatwoot({44: "pending"})
    try:
        with _app(tmp_path, chatwoot, demo_model, demo_index, clarify_margin=1.0, clarify_floor=0.0) as client:
            asked = _post(client, event(chatwoot, 44, "반품 보냈는데 돈이 안 들어왔어요"))
            wait_for(lambda: _all_delivered(client))
            (question,) = _bot_messages(chatwoot, 44)
            refund = next(i for i in question["content_attributes"]["items"] if "refund_status" in i["value"])
            picked = {  # what the widget sends when an option is clicked: the question's message, updated
                **event(chatwoot, 44, "-"),
                "event": "message_updated",
                "id": question["id"],
                "content": question["content"],
                "message_type": "outgoing",
                "sender": {"id": 2, "name": "Deflect", "type": "agent_bot"},
                "content_attributes": {"items": question["content_attributes"]["items"], "submitted_values": [refund]},
            }
            chosen = _post(client, picked)
            twice = _post(client, picked)
            wait_for(lambda: len(_deliveries(client)) == 2 and _all_delivered(client))
            record = client.app.state.service.events.suggestions()[-1]  # type: ignore[attr-defined]
    finally:
        chatwoot.server.shutdown()

    assert asked["decision"] == "clarify" and question["content_type"] == "input_select"
    assert chosen["status"] == "queued" and twice["status"] == "duplicate"
    assert record.reason_code == "chosen" and record.intent == "refund_status"
    assert len(_bot_messages(chatwoot, 44)) == 2  # the question, then the answer to the option picked


def test_a_handoff_opens_the_conversation_for_its_team_with_a_private_note_and_files_a_zendesk_ticket(
    tmp_path: Path, demo_model: IntentModel, demo_index: ArticleIndex
) -> None:
    chatwoot = FakeChatwoot({45: "pending"})
    zendesk = FakeZendesk(answers=[(500, {}, {"error": "InternalError"})])  # a failing helpdesk breaks nothing
    helpdesk = {"zendesk_url": address(zendesk.server), "zendesk_email": EMAIL, "zendesk_api_token": TOKEN}
    try:
        with _app(tmp_path, chatwoot, demo_model, demo_index, **helpdesk) as client:
            first = _post(client, event(chatwoot, 45, "환불 언제 들어와요? 주문번호 20261103-0012345"))
            handoff = _post(client, event(chatwoot, 45, "상담원 연결해 주세요"))
            wait_for(lambda: len(_deliveries(client)) == 3 and _all_delivered(client))
            after = _post(client, event(chatwoot, 45, "아직이에요?"))  # agents have it now
            package = client.get(
                f"/v1/conversations/chatwoot-{ACCOUNT}-45/handoff",
                headers={"Authorization": f"Bearer {client.key}"},  # type: ignore[attr-defined]
            ).json()
    finally:
        chatwoot.server.shutdown()
        zendesk.server.shutdown()

    assert first["decision"] != "handoff" and handoff["decision"] == "handoff"
    *_, told, note = _bot_messages(chatwoot, 45)
    assert told["private"] is False and "상담원" in told["content"]
    assert note["private"] is True and "Customer: 상담원 연결해 주세요" in note["content"]
    assert "주문번호: 20261103-0012345" in note["content"]
    assert chatwoot.status[45] == "open" and chatwoot.teams[45] == TEAMS[package["route"]["team"]]
    assert after == {"status": "ignored", "reason": "the conversation is open: agents have it, not the bot"}
    (ticket,) = zendesk.tickets.values()
    assert ticket["external_id"] == f"chatwoot-{ACCOUNT}-45" and ticket["requester"]["email"] == "minji@example.com"


def test_only_signed_customer_messages_in_conversations_the_bot_holds_are_answered(
    tmp_path: Path, demo_model: IntentModel, demo_index: ArticleIndex
) -> None:
    chatwoot = FakeChatwoot({46: "pending"})
    try:
        with _app(tmp_path, chatwoot, demo_model, demo_index, chatwoot_webhook_secret=WEBHOOK_SECRET) as client:
            url = f"/integrations/chatwoot/webhook?key={client.key}"  # type: ignore[attr-defined]

            def signed(body: dict[str, Any], secret: str = WEBHOOK_SECRET, age: float = 0) -> Any:
                raw = json.dumps(body).encode()
                timestamp = str(int(time.time() - age))
                digest = hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
                headers = {"x-chatwoot-timestamp": timestamp, "x-chatwoot-signature": f"sha256={digest}"}
                return client.post(url, content=raw, headers={"content-type": "application/json", **headers})

            message = event(chatwoot, 46, "배송 언제 와요?")
            unsigned = client.post(url, json=message)
            forged = signed(message, secret="guessed")
            replayed = signed(message, age=3600)
            anonymous = client.post("/integrations/chatwoot/webhook", json=message)
            malformed = signed({"event": "message_created", "conversation": {"id": "x"}})
            ignored = [
                signed({**message, "message_type": "outgoing"}).json(),
                signed({**message, "private": True}).json(),
                signed({**message, "sender": {"id": 5, "type": "user"}}).json(),
                signed({**message, "content": ""}).json(),
                signed({**message, "event": "conversation_created"}).json(),
            ]
            answered = signed(message)
    finally:
        chatwoot.server.shutdown()

    assert unsigned.status_code == forged.status_code == replayed.status_code == 401
    assert "X-Chatwoot-Signature" in forged.json()["error"]["message"]
    assert anonymous.status_code == 401
    assert malformed.status_code == 422 and "conversation.id" in malformed.json()["error"]["message"]
    assert [body["status"] for body in ignored] == ["ignored"] * 5
    assert answered.status_code == 200 and answered.json()["status"] == "queued"
