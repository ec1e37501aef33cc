"""Chatwoot as an Agent Bot: Chatwoot POSTs each event of the bot's inboxes to Deflect (`message_created`,
`message_updated`, …); a customer's message in a conversation the bot holds (status `pending`) is answered through
Chatwoot's API, from the outbox, because Chatwoot waits 5 s for the webhook and ignores what it returns.

Deflect's decision in Chatwoot's conventions (web widget: rich messages; other channels, which show no cards or
option buttons: the same in text with links) —

- bot answer: the answer as an outgoing message with a link to its article;
- articles: a `cards` message, one card per article with a link action;
- clarify: the question as an `input_select` whose options come back as `message_updated` with the value chosen;
- handoff: a message saying a person will take over, a private note carrying the handoff package, the team the
  route names (`DEFLECT_CHATWOOT_TEAMS`) and the conversation set `open`, which puts it in the agents' queue.

A message's conversation is `chatwoot-<account>-<conversation>`; its reply's delivery id comes from Chatwoot's
message id, so an event delivered twice is answered once. Chatwoot has no idempotency key for messages: before
posting again, a retry reads the conversation's latest messages and skips what an earlier attempt already posted."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from deflect.connectors.handoff_note import handoff_note
from deflect.conversation.clarify import Choice
from deflect.conversation.results import CustomerMessage, Suggestion
from deflect.core.vocabulary import Decision, OptionKind
from deflect.delivery.webhook import SendOutcome, checked_url, refused
from deflect.store.outbox import ClaimedDelivery

logger = logging.getLogger(__name__)
TARGET = "chatwoot"
RICH_CHANNELS = frozenset({"Channel::WebWidget"})  # where cards and input_select render
CHOICE_PREFIX = "deflect:"
OUTGOING = 1  # message_type in Chatwoot's API answers (the webhook spells it out: "outgoing")
MAX_CARDS = 5
TEXTS = {
    "ko": {
        "articles": "이 도움말에 답이 있을 거예요.",
        "read": "도움말 보기",
        "handoff": "상담원에게 연결해 드릴게요. 잠시만 기다려 주세요.",
        "choose": "아래에서 골라 주세요:",
    },
    "en": {
        "articles": "These articles should answer it.",
        "read": "Read article",
        "handoff": "I'm connecting you with an agent, who will be with you shortly.",
        "choose": "Please pick one:",
    },
}


class Contact(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    type: str | None = None  # "contact" for a customer; "user" and "agent_bot" write too
    email: str | None = None
    identifier: str | None = None  # the id the customer's own site gave the contact


class ChatwootConversation(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int  # the display id the API's conversation routes take
    status: str | None = None  # pending while a bot holds it; open once agents do
    channel: str | None = None


class Account(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int


class WebhookEvent(BaseModel):
    """An Agent Bot webhook: the message's own fields at the top, with its conversation, sender and account."""

    model_config = ConfigDict(extra="allow")
    event: str
    id: int | None = None
    content: str | None = None
    message_type: str | int | None = None
    private: bool = False
    content_attributes: dict[str, Any] | None = None
    sender: Contact | None = None
    conversation: ChatwootConversation | None = None
    account: Account | None = None


def submitted_choice(event: WebhookEvent) -> tuple[Choice, str] | None:
    """The option a customer picked from one of Deflect's `input_select` messages, and its label."""
    for submitted in (event.content_attributes or {}).get("submitted_values") or []:
        value = submitted.get("value") if isinstance(submitted, dict) else None
        if isinstance(value, str) and value.startswith(CHOICE_PREFIX):
            suggestion_id, _, rest = value[len(CHOICE_PREFIX) :].partition("|")
            kind_name, _, intent = rest.partition("|")
            try:
                kind = OptionKind(kind_name)
            except ValueError:
                return None
            return Choice(suggestion_id, kind, intent or None), str(submitted.get("title") or "")
    return None


def ignored_because(event: WebhookEvent) -> str | None:
    """Why Deflect leaves an event alone, or None when it is a customer's message to answer."""
    if event.event not in ("message_created", "message_updated"):
        return f"'{event.event}' is not a customer message"
    if event.id is None or event.conversation is None or event.account is None:
        return "the event names no message, conversation or account"
    if event.conversation.status != "pending":
        return f"the conversation is {event.conversation.status or 'of unknown status'}: agents have it, not the bot"
    if event.event == "message_updated":
        return None if submitted_choice(event) else "an update that picks none of Deflect's options"
    if event.message_type not in ("incoming", 0) or event.private:
        return "not a customer's message (outgoing, activity or a private note)"
    if event.sender is not None and event.sender.type not in (None, "contact"):
        return f"written by a {event.sender.type}, not the customer"
    if not (event.content or "").strip():
        return "a message without text (an attachment only)"
    return None


def conversation_id(event: WebhookEvent) -> str:
    assert event.account is not None and event.conversation is not None
    return f"chatwoot-{event.account.id}-{event.conversation.id}"


def delivery_id(event: WebhookEvent) -> str:
    """The reply's delivery id: the same for every delivery of one Chatwoot event."""
    assert event.account is not None
    suffix = "-choice" if event.event == "message_updated" else ""
    return f"d-cw-{event.account.id}-{event.id}{suffix}"


def customer_message(event: WebhookEvent) -> CustomerMessage:
    """The customer message of an event `ignored_because` let through."""
    assert event.account is not None
    contact = event.sender
    customer = None
    if contact is not None and contact.type in (None, "contact"):
        customer = contact.identifier or contact.email or f"chatwoot-{event.account.id}-contact-{contact.id}"
    picked = submitted_choice(event) if event.event == "message_updated" else None
    return CustomerMessage(
        text=picked[1] if picked else (event.content or ""),
        conversation_id=conversation_id(event),
        customer_id=customer,
        channel=TARGET,
        choice=picked[0] if picked else None,
    )


def _message(content: str, *, private: bool = False, content_type: str = "text", **attributes: Any) -> dict:
    body: dict[str, Any] = {
        "content": content,
        "message_type": "outgoing",
        "private": private,
        "content_type": content_type,
    }
    if attributes:
        body["content_attributes"] = attributes
    return body


def _articles(suggestion: Suggestion, rich: bool, texts: dict[str, str]) -> dict[str, Any]:
    articles = suggestion.articles[:MAX_CARDS]
    if not rich:
        lines = [texts["articles"], *[f"- [{a.title}]({a.url})" for a in articles]]
        return _message("\n".join(lines))
    cards = [
        {
            "title": a.title,
            "description": a.snippet,
            "actions": [{"type": "link", "text": texts["read"], "uri": a.url}],
        }
        for a in articles
    ]
    return _message(texts["articles"], content_type="cards", items=cards)


def _clarify(suggestion: Suggestion, rich: bool, texts: dict[str, str]) -> dict[str, Any]:
    assert suggestion.clarification is not None
    options = suggestion.clarification.options
    question = suggestion.clarification.question
    if not rich:  # a typed label is read as the option it names
        return _message("\n".join([question, texts["choose"], *[f"- {o.label}" for o in options]]))
    items = [
        {"title": o.label, "value": f"{CHOICE_PREFIX}{suggestion.suggestion_id}|{o.kind.value}|{o.intent or ''}"}
        for o in options
    ]
    return _message(question, content_type="input_select", items=items)


def reply_payload(
    event: WebhookEvent, suggestion: Suggestion, package: dict[str, Any] | None, teams: dict[str, int]
) -> dict[str, Any]:
    """What the outbox sends to Chatwoot for one suggestion: messages to post in order, then the handoff."""
    assert event.account is not None and event.conversation is not None
    rich = (event.conversation.channel or "") in RICH_CHANNELS
    texts = TEXTS.get(suggestion.locale, TEXTS["ko"])
    messages: list[dict[str, Any]] = []
    hand_off = suggestion.decision is Decision.HANDOFF
    if suggestion.decision is Decision.BOT_ANSWER and suggestion.answer is not None:
        answer = suggestion.answer
        title = next((a.title for a in suggestion.articles if a.id == answer.article_id), texts["read"])
        messages.append(_message(f"{answer.text}\n\n[{title}]({answer.url})"))
    elif suggestion.decision is Decision.CLARIFY and suggestion.clarification is not None:
        messages.append(_clarify(suggestion, rich, texts))
    elif not hand_off and suggestion.articles:
        messages.append(_articles(suggestion, rich, texts))
    else:  # a handoff, or nothing worth showing: a person takes over
        hand_off = True
        messages.append(_message(texts["handoff"]))
        note = handoff_note(package) if package else f"Deflect: {suggestion.reason}"
        messages.append(_message(note, private=True))
    team = suggestion.handoff.team if suggestion.handoff is not None else None
    return {
        "account_id": event.account.id,
        "conversation_id": event.conversation.id,
        "after_message_id": event.id,
        "messages": messages,
        "open": hand_off,
        "team_id": teams.get(team) if hand_off and team else None,
    }


@dataclass(frozen=True)
class ChatwootConfig:
    url: str  # https://app.chatwoot.com or the team's own installation
    api_token: str  # the Agent Bot's access token
    teams: dict[str, int] = field(default_factory=dict)  # Deflect team → Chatwoot team id
    timeout_seconds: float = 5.0


def _problem(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    shown = body.get("error") or body.get("message") or body.get("errors") if isinstance(body, dict) else body
    return f"HTTP {response.status_code}: {shown}"[:500]


class ChatwootReplySender:
    def __init__(self, config: ChatwootConfig):
        url = checked_url(config.url, "DEFLECT_CHATWOOT_URL")
        if not config.api_token:
            raise ValueError("DEFLECT_CHATWOOT_URL is set but DEFLECT_CHATWOOT_API_TOKEN is not")
        self.config = config
        self._client = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"api_access_token": config.api_token, "accept": "application/json"},
            timeout=config.timeout_seconds,
        )

    def send(self, delivery: ClaimedDelivery) -> SendOutcome:
        payload = delivery.payload
        base = f"/api/v1/accounts/{payload['account_id']}/conversations/{payload['conversation_id']}"
        try:
            # an earlier attempt may have posted messages before its answer was lost
            posted = self._posted_since(base, payload["after_message_id"]) if delivery.attempts > 1 else set()
            steps = [
                (f"{base}/messages", message)
                for message in payload["messages"]
                if (message["content"], message["private"]) not in posted
            ]
            if payload.get("team_id") is not None:
                steps.append((f"{base}/assignments", {"team_id": payload["team_id"]}))
            if payload.get("open"):
                steps.append((f"{base}/toggle_status", {"status": "open"}))
            for path, body in steps:
                response = self._client.post(path, json=body)
                if not response.is_success:
                    return refused(response, _problem(response))
        except httpx.HTTPError as error:
            return SendOutcome(False, problem=f"{type(error).__name__}: {error}")
        logger.info("delivery %s: answered Chatwoot conversation %s", delivery.id, payload["conversation_id"])
        return SendOutcome(True)

    def _posted_since(self, base: str, message_id: int) -> set[tuple[str, bool]]:
        """The outgoing messages after the customer's: what an earlier attempt already posted. When they cannot be
        read, nothing is taken as posted."""
        response = self._client.get(f"{base}/messages")
        if not response.is_success:
            return set()
        messages = response.json().get("payload") or []
        return {
            (str(m.get("content")), bool(m.get("private")))
            for m in messages
            if isinstance(m, dict) and m.get("message_type") == OUTGOING and (m.get("id") or 0) > message_id
        }

    def close(self) -> None:
        self._client.close()
