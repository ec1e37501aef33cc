"""Handoffs become Zendesk tickets: the sender is checked against a local stand-in for Zendesk's Support API that
answers as Zendesk documents it — API-token Basic auth (`{email}/token:{token}`), `POST /api/v2/tickets` with a
`{"ticket": …}` body, 201 with the ticket, `Idempotency-Key` replays (`x-idempotency-lookup: hit`), 429 with
`Retry-After`, and 422 `RecordInvalid` for a bad field."""

from __future__ import annotations

import base64
import json
from http.server import BaseHTTPRequestHandler
from typing import Any

from live_server import address, http_receiver

from deflect.connectors.zendesk import ZendeskConfig, ZendeskTicketSender, ticket_body
from deflect.store.outbox import ClaimedDelivery

EMAIL, TOKEN = "bot@haneulmarket.example", "zd-token-8c1f"
PACKAGE = {
    "conversation_id": "kakao-u-77",
    "summary": "환불 진행 상황 문의, 상담원 요청",
    "reason_code": "person_requested",
    "reason": "The customer asked for a person",
    "route": {"team": "payments", "queue": "payments-ko", "language": "ko", "priority": "high", "priority_reasons": []},
    "transcript": [
        {
            "role": "customer",
            "text": "환불 언제 들어와요? 주문번호 20261103-0012345",
            "at": None,
            "client_supplied": False,
        },
        {"role": "bot", "text": "환불은 3영업일 안에 들어와요.", "at": None, "client_supplied": False},
        {"role": "customer", "text": "상담원 연결해 주세요", "at": None, "client_supplied": False},
    ],
    "intents": [{"intent": "refund_status", "name": "환불 진행 상황", "confidence": 0.91}],
    "intent_history": [],
    "articles_shown": [],
    "feedback": [],
    "frustration": {"score": 0.1, "frustrated": False, "cues": []},
    "details": [
        {
            "kind": "order_number",
            "value": "20261103-0012345",
            "text": "20261103-0012345",
            "given": False,
            "label": "주문번호: 20261103-0012345",
            "turn": 0,
        }
    ],
    "customer_id": "minji@example.com",
}


class FakeZendesk:
    """Zendesk's ticket endpoint as documented, keeping the tickets it made (header names read case-blind)."""

    def __init__(self, answers: list[tuple[int, dict[str, str], dict[str, Any]]] | None = None):
        self.answers = list(answers or [])
        self.tickets: dict[str, dict[str, Any]] = {}  # idempotency key → ticket
        self.requests: list[dict[str, Any]] = []
        zendesk = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                status, headers, answer = zendesk.answer(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                encoded = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in {"content-type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http_receiver(Handler)

    def answer(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, dict, dict]:
        self.requests.append({"path": path, "headers": headers, "body": body})
        expected = "Basic " + base64.b64encode(f"{EMAIL}/token:{TOKEN}".encode()).decode()
        if headers.get("authorization") != expected:
            return 401, {}, {"error": "Couldn't authenticate you"}
        if path != "/api/v2/tickets":
            return 404, {}, {"error": "InvalidEndpoint"}
        if self.answers:
            return self.answers.pop(0)
        ticket = body["ticket"]
        if not ticket.get("comment", {}).get("body"):
            return 422, {}, {"error": "RecordInvalid", "description": "Record validation errors", "details": {}}
        key = headers.get("idempotency-key")
        if key in self.tickets:
            return 201, {"x-idempotency-lookup": "hit"}, {"ticket": self.tickets[key]}
        made = {"id": 1000 + len(self.tickets), **ticket}
        self.tickets[key or str(len(self.tickets))] = made
        return 201, {"x-idempotency-lookup": "miss"}, {"ticket": made}


def _delivery(delivery_id: str, attempts: int = 1) -> ClaimedDelivery:
    return ClaimedDelivery(delivery_id, "handoff", "zendesk", PACKAGE, attempts)


def _sender(zendesk: FakeZendesk, token: str = TOKEN) -> ZendeskTicketSender:
    config = ZendeskConfig(
        address(zendesk.server),
        EMAIL,
        token,
        fields={"intent": 360001, "conversation_id": 360002},
        groups={"payments": 77},
    )
    return ZendeskTicketSender(config)


def test_a_handoff_becomes_one_ticket_with_the_transcript_tags_fields_priority_and_requester() -> None:
    zendesk = FakeZendesk()
    sender = _sender(zendesk)
    try:
        first = sender.send(_delivery("d-1"))
        replay = sender.send(_delivery("d-1", attempts=2))  # the answer to the first was lost: same key again
    finally:
        sender.close()
        zendesk.server.shutdown()

    assert first.delivered and replay.delivered and len(zendesk.tickets) == 1
    ticket = zendesk.tickets["d-1"]
    assert ticket["priority"] == "high" and ticket["group_id"] == 77 and ticket["external_id"] == "kakao-u-77"
    assert {"deflect", "intent_refund_status", "team_payments", "lang_ko", "reason_person_requested"} <= set(
        ticket["tags"]
    )
    assert {"id": 360001, "value": "refund_status"} in ticket["custom_fields"]
    assert ticket["requester"] == {"email": "minji@example.com", "name": "minji"}
    comment = ticket["comment"]
    assert comment["public"] is False and "주문번호: 20261103-0012345" in comment["body"]
    assert "Customer: 상담원 연결해 주세요" in comment["body"]


def test_zendesk_s_rate_limit_is_waited_for_and_its_refusals_are_final_with_its_reason() -> None:
    unknown_field = {"error": "RecordInvalid", "description": "Record validation errors", "details": {"group": "x"}}
    zendesk = FakeZendesk(answers=[(429, {"Retry-After": "7"}, {"error": "TooManyRequests"}), (422, {}, unknown_field)])
    sender, wrong_token = _sender(zendesk), _sender(zendesk, token="revoked")
    try:
        limited = sender.send(_delivery("d-2"))
        refused = wrong_token.send(_delivery("d-3"))
        invalid = sender.send(_delivery("d-4"))
    finally:
        sender.close()
        wrong_token.close()
        zendesk.server.shutdown()

    assert not limited.delivered and not limited.final and limited.retry_after_seconds == 7.0
    assert refused.final and "401" in refused.problem
    body = ticket_body({**PACKAGE, "customer_id": "u-8812"}, ZendeskConfig("https://x.zendesk.com", EMAIL, TOKEN))
    assert "requester" not in body["ticket"]  # a customer id that is no e-mail address names no requester
    assert invalid.final and invalid.problem.startswith("HTTP 422: RecordInvalid; Record validation errors")
