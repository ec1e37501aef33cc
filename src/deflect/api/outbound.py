"""Where the outbox sends: the handoff senders configured in the settings (the signed webhook, Zendesk tickets),
each a target every handoff goes to; the reply senders of channels that take answers through their own API
(Chatwoot); and the delivery worker that sends to them. A sender that cannot work stops the start-up with a clear
error, not the first handoff."""

from __future__ import annotations

from deflect.connectors.chatwoot import TARGET as CHATWOOT
from deflect.connectors.chatwoot import ChatwootConfig, ChatwootReplySender
from deflect.connectors.zendesk import ZendeskConfig, ZendeskTicketSender
from deflect.conversation.metrics import ServiceMetrics
from deflect.core.settings import Settings
from deflect.delivery.webhook import WebhookSender
from deflect.delivery.worker import DeliveryWorker, RetryPolicy, Sender
from deflect.store.events import EventStore
from deflect.store.outbox import Outbox


def handoff_senders(settings: Settings) -> dict[str, Sender]:
    """Target name → sender; every handoff gets a delivery (its own id) per target."""
    senders: dict[str, Sender] = {}
    if settings.handoff_webhook_url:
        if not settings.handoff_webhook_secret:
            raise ValueError("DEFLECT_HANDOFF_WEBHOOK_URL is set but DEFLECT_HANDOFF_WEBHOOK_SECRET is not")
        senders["webhook"] = WebhookSender(
            settings.handoff_webhook_url, settings.handoff_webhook_secret, settings.webhook_timeout_seconds
        )
    if settings.zendesk_url:
        config = ZendeskConfig(
            settings.zendesk_url,
            settings.zendesk_email or "",
            settings.zendesk_api_token or "",
            fields=settings.zendesk_fields,
            groups=settings.zendesk_groups,
            public_comment=settings.zendesk_public_comment,
            timeout_seconds=settings.webhook_timeout_seconds,
        )
        senders["zendesk"] = ZendeskTicketSender(config)
    return senders


def reply_senders(settings: Settings) -> dict[str, Sender]:
    """Channel name → the sender of its replies; only messages that came from that channel go to it."""
    if not settings.chatwoot_url:
        return {}
    config = ChatwootConfig(
        settings.chatwoot_url,
        settings.chatwoot_api_token or "",
        teams=settings.chatwoot_teams,
        timeout_seconds=settings.webhook_timeout_seconds,
    )
    return {CHATWOOT: ChatwootReplySender(config)}


def delivery_worker(
    settings: Settings, metrics: ServiceMetrics, events: EventStore, senders: dict[str, Sender]
) -> DeliveryWorker:
    retry = RetryPolicy(
        settings.webhook_max_attempts, settings.webhook_backoff_seconds, settings.webhook_max_backoff_seconds
    )
    return DeliveryWorker(Outbox(events), senders, metrics, retry, lease_seconds=settings.outbox_lease_seconds)
