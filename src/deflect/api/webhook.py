"""Deliver handoff packages to a helpdesk webhook: signed, retried with exponential backoff, off the request path.

Each delivery is a POST of `{"event": "handoff", "delivery_id", "package"}` with the headers
`X-Deflect-Delivery`, `X-Deflect-Timestamp` and `X-Deflect-Signature: sha256=<hex>`, the HMAC-SHA256 of
`"{timestamp}.{body}"` under the shared secret, so the receiver can check who sent it and refuse replays.
Connection errors, 429 and 5xx are retried; other 4xx answers are final. Outcomes are counted in the metrics."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from deflect.conversation.metrics import ServiceMetrics

logger = logging.getLogger(__name__)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, timestamp: str, body: bytes, header: str, max_age_seconds: float = 300) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        fresh = abs(time.time() - float(timestamp)) <= max_age_seconds
    except ValueError:
        return False
    return fresh and hmac.compare_digest(signature(secret, timestamp, body), header)


@dataclass(frozen=True)
class Delivery:
    id: str
    body: bytes


class WebhookDelivery:
    def __init__(
        self,
        url: str,
        secret: str,
        metrics: ServiceMetrics,
        *,
        max_attempts: int = 5,
        first_backoff_seconds: float = 0.5,
        timeout_seconds: float = 5.0,
    ):
        self.url = url
        self.secret = secret
        self.metrics = metrics
        self.max_attempts = max_attempts
        self.first_backoff_seconds = first_backoff_seconds
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._client = httpx.Client(timeout=timeout_seconds)
        self._worker = threading.Thread(target=self._run, name="handoff-webhook", daemon=True)
        self._worker.start()

    def submit(self, package: dict[str, Any]) -> str:
        delivery_id = f"d-{secrets.token_hex(8)}"
        body = json.dumps({"event": "handoff", "delivery_id": delivery_id, "package": package}, ensure_ascii=False)
        self._queue.put(Delivery(delivery_id, body.encode()))
        self.metrics.webhook.labels("queued").inc()
        return delivery_id

    def close(self, timeout: float = 10.0) -> None:
        """Finish what is queued (up to `timeout`), then stop."""
        self._queue.put(None)
        self._worker.join(timeout)
        self._client.close()

    def pending(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        while (delivery := self._queue.get()) is not None:
            self._deliver(delivery)

    def _deliver(self, delivery: Delivery) -> None:
        for attempt in range(1, self.max_attempts + 1):
            timestamp = str(int(time.time()))
            headers = {
                "content-type": "application/json",
                "x-deflect-delivery": delivery.id,
                "x-deflect-timestamp": timestamp,
                "x-deflect-signature": signature(self.secret, timestamp, delivery.body),
            }
            try:
                status = self._client.post(self.url, content=delivery.body, headers=headers).status_code
            except httpx.HTTPError as error:
                status, problem = None, f"{type(error).__name__}: {error}"
            else:
                problem = f"HTTP {status}"
            if status is not None and 200 <= status < 300:
                self.metrics.webhook.labels("delivered").inc()
                return
            final = status is not None and 400 <= status < 500 and status != 429
            if final or attempt == self.max_attempts:
                self.metrics.webhook.labels("failed").inc()
                logger.error("handoff webhook %s gave up after %d attempt(s): %s", delivery.id, attempt, problem)
                return
            self.metrics.webhook.labels("retried").inc()
            time.sleep(self.first_backoff_seconds * 2 ** (attempt - 1))
