"""Zendesk Support: each handoff becomes a ticket (`POST /api/v2/tickets`), sent from the outbox like any delivery.

The ticket carries the redacted transcript and the details the customer gave as its first comment (private by
default: an internal note for the agent), the intent, team and reason as tags, the fields an admin mapped
(`DEFLECT_ZENDESK_FIELDS`: intent, team, queue, conversation id, confidence → custom field ids), the route's
priority (normal / high / urgent, Zendesk's own values), the team's group (`DEFLECT_ZENDESK_GROUPS`), and the
requester when the customer id is an e-mail address. Auth is an API token (`{email}/token:{token}`, HTTP Basic).

The delivery id is sent as `Idempotency-Key`: a retry after a lost answer returns the ticket made the first time
(`x-idempotency-lookup: hit`) instead of a second one. 201 is delivered; 429 and 503 wait as `Retry-After` says;
other 5xx and timeouts are retried; 401, 403, 404, 422 and an idempotency conflict (400 IdempotentRequestError) are
final and the delivery is dead-lettered with Zendesk's description, for an admin to fix and retry."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from deflect.connectors.handoff_note import handoff_note
from deflect.delivery.webhook import SendOutcome, checked_url, refused
from deflect.store.outbox import ClaimedDelivery

logger = logging.getLogger(__name__)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TAG_UNSAFE = re.compile(r"[^a-z0-9_]+")
FIELD_NAMES = ("intent", "team", "queue", "conversation_id", "confidence", "reason")
ZENDESK_PRIORITIES = {"normal": "normal", "high": "high", "urgent": "urgent", "low": "low"}


@dataclass(frozen=True)
class ZendeskConfig:
    url: str  # https://{subdomain}.zendesk.com
    email: str
    api_token: str
    fields: dict[str, int] = field(default_factory=dict)  # FIELD_NAMES → custom field id
    groups: dict[str, int] = field(default_factory=dict)  # Deflect team → Zendesk group id
    public_comment: bool = False  # the transcript as a public reply rather than an internal note
    timeout_seconds: float = 10.0


def tag(text: str) -> str:
    """A Zendesk tag: lower case, no spaces (Zendesk splits tags on spaces)."""
    return TAG_UNSAFE.sub("_", text.lower()).strip("_")[:80]


def ticket_body(package: dict[str, Any], config: ZendeskConfig) -> dict[str, Any]:
    """The `{"ticket": …}` body of a handoff package."""
    route = package["route"]
    intents = package.get("intents") or []
    best = intents[0] if intents else None
    subject_topic = best["name"] if best else (package.get("reason") or "Customer chat")
    values = {
        "intent": best["intent"] if best else None,
        "team": route["team"],
        "queue": route["queue"],
        "conversation_id": package["conversation_id"],
        "confidence": round(best["confidence"], 3) if best else None,
        "reason": package.get("reason_code"),
    }
    tags = ["deflect", "deflect_handoff", f"team_{tag(route['team'])}", f"lang_{tag(route['language'])}"]
    if best:
        tags.append(f"intent_{tag(best['intent'])}")
    if package.get("reason_code"):
        tags.append(f"reason_{tag(package['reason_code'])}")
    ticket: dict[str, Any] = {
        "subject": f"[{route['team']}] {subject_topic}"[:150],
        "comment": {"body": handoff_note(package), "public": config.public_comment},
        "priority": ZENDESK_PRIORITIES.get(route["priority"], "normal"),
        "tags": tags,
        "external_id": package["conversation_id"],
    }
    custom_fields = [
        {"id": config.fields[name], "value": values[name]}
        for name in FIELD_NAMES
        if name in config.fields and values[name] is not None
    ]
    if custom_fields:
        ticket["custom_fields"] = custom_fields
    if route["team"] in config.groups:
        ticket["group_id"] = config.groups[route["team"]]
    customer = package.get("customer_id")
    if isinstance(customer, str) and EMAIL.match(customer):
        ticket["requester"] = {"email": customer, "name": customer.split("@")[0]}
    return {"ticket": ticket}


def _problem(response: httpx.Response) -> str:
    """Zendesk's own words for a refusal: `{"error", "description", "details"}` when it sent JSON."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    error: Any = body.get("error")
    description: Any = body.get("description")
    if isinstance(error, dict):  # 401/403 answer {"error": {"title", "message"}}
        error, description = error.get("title"), error.get("message")
    details = body.get("details")
    shown = "; ".join(str(part) for part in (error, description, details) if part)
    return f"HTTP {response.status_code}: {shown}"[:500]


class ZendeskTicketSender:
    def __init__(self, config: ZendeskConfig):
        url = checked_url(config.url, "DEFLECT_ZENDESK_URL (https://<subdomain>.zendesk.com)")
        if not config.email or not config.api_token:
            raise ValueError("DEFLECT_ZENDESK_URL is set but DEFLECT_ZENDESK_EMAIL or DEFLECT_ZENDESK_API_TOKEN is not")
        self.config = config
        self._client = httpx.Client(
            base_url=url.rstrip("/"),
            auth=(f"{config.email}/token", config.api_token),
            timeout=config.timeout_seconds,
            headers={"accept": "application/json"},
        )

    def send(self, delivery: ClaimedDelivery) -> SendOutcome:
        try:
            response = self._client.post(
                "/api/v2/tickets",
                json=ticket_body(delivery.payload, self.config),
                headers={"idempotency-key": delivery.id},
            )
        except httpx.HTTPError as error:
            return SendOutcome(False, problem=f"{type(error).__name__}: {error}")
        if not response.is_success:
            return refused(response, _problem(response))
        ticket = response.json().get("ticket", {}) if response.content else {}
        replayed = response.headers.get("x-idempotency-lookup") == "hit"
        logger.info("delivery %s: Zendesk ticket %s%s", delivery.id, ticket.get("id"), " (replayed)" * replayed)
        return SendOutcome(True)

    def close(self) -> None:
        self._client.close()
