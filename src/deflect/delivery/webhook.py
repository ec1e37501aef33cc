"""The helpdesk webhook sender: one signed POST of `{"event", "delivery_id", "package"}` per attempt.

Headers `X-Deflect-Delivery` (the same on every attempt of a delivery: a receiver drops duplicates by it),
`X-Deflect-Timestamp` and `X-Deflect-Signature: sha256=<hex>`, the HMAC-SHA256 of `"{timestamp}.{body}"` under the
shared secret, so the receiver can check who sent it and refuse replays. 2xx is delivered; connection errors,
timeouts, 408, 429 and 5xx are worth another attempt (429 and 503 with the `Retry-After` they give); other 4xx are
final."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from deflect.store.outbox import ClaimedDelivery

RETRIED_STATUSES = {408, 425, 429}


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
class SendOutcome:
    delivered: bool
    final: bool = False  # not worth another attempt
    problem: str = ""
    retry_after_seconds: float | None = None  # what the receiver asked for


def retry_after(header: str | None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date."""
    if not header:
        return None
    try:
        return max(float(header), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(header).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def checked_url(url: str, setting: str = "DEFLECT_HANDOFF_WEBHOOK_URL") -> str:
    """A receiver's URL, refused at start-up (not at the first handoff) when it cannot be posted to."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise ValueError(f"{setting} is not a URL: {error}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"{setting} must be an http(s) URL with a host, not {url!r}")
    return url


def refused(response: httpx.Response, problem: str) -> SendOutcome:
    """A non-2xx answer: worth another attempt for 408, 425, 429 and 5xx (when `Retry-After` says), final else."""
    status = response.status_code
    return SendOutcome(
        False,
        final=not (status >= 500 or status in RETRIED_STATUSES),
        problem=problem,
        retry_after_seconds=retry_after(response.headers.get("retry-after")),
    )


class WebhookSender:
    def __init__(self, url: str, secret: str, timeout_seconds: float = 5.0):
        self.url = checked_url(url)
        self.secret = secret
        self._client = httpx.Client(timeout=timeout_seconds)

    def send(self, delivery: ClaimedDelivery) -> SendOutcome:
        document = {"event": delivery.topic, "delivery_id": delivery.id, "package": delivery.payload}
        body = json.dumps(document, ensure_ascii=False)
        encoded = body.encode()
        timestamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            "x-deflect-delivery": delivery.id,
            "x-deflect-timestamp": timestamp,
            "x-deflect-signature": signature(self.secret, timestamp, encoded),
        }
        try:
            response = self._client.post(self.url, content=encoded, headers=headers)
        except httpx.HTTPError as error:
            return SendOutcome(False, problem=f"{type(error).__name__}: {error}")
        if response.is_success:
            return SendOutcome(True)
        return refused(response, f"HTTP {response.status_code}")

    def close(self) -> None:
        self._client.close()
