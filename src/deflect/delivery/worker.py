"""The delivery worker: claims due deliveries from the outbox (a lease per delivery, so several workers or replicas
never send the same one at once), sends each with the sender of its target, and records what happened — delivered,
retried later with exponential backoff and jitter (or when the receiver's `Retry-After` says), or dead-lettered
after the last attempt or a final answer. An unexpected error is logged and counted, never the end of the loop."""

from __future__ import annotations

import logging
import random
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from deflect.conversation.metrics import ServiceMetrics
from deflect.delivery.webhook import SendOutcome
from deflect.store.outbox import ClaimedDelivery, Outbox

logger = logging.getLogger(__name__)


class Sender(Protocol):
    def send(self, delivery: ClaimedDelivery) -> SendOutcome:
        """One attempt; `delivery.attempts` above 1 says an earlier attempt may have reached the receiver."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    first_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 600.0

    def delay(self, attempts: int, asked: float | None) -> float:
        """Seconds until the next attempt after `attempts` failed ones: the receiver's `Retry-After` when it gave
        one (up to the longest backoff), otherwise a doubling backoff drawn between half and all of it, so
        deliveries that failed together do not come back together."""
        if asked is not None:
            return min(asked, self.max_backoff_seconds)
        ceiling = min(self.first_backoff_seconds * 2 ** (attempts - 1), self.max_backoff_seconds)
        return random.uniform(ceiling / 2, ceiling)


class DeliveryWorker:
    def __init__(
        self,
        outbox: Outbox,
        senders: Mapping[str, Sender],
        metrics: ServiceMetrics,
        retry: RetryPolicy,
        *,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
    ):
        self.outbox = outbox
        self.senders = dict(senders)
        self.metrics = metrics
        self.retry = retry
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.owner = f"w-{secrets.token_hex(6)}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-delivery", daemon=True)

    def start(self) -> DeliveryWorker:
        self._thread.start()
        return self

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the attempt under way (up to `timeout`); what is still pending waits in the outbox."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        for sender in self.senders.values():
            sender.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.run_once()
            except Exception:  # the database or a bug: logged and counted, and the loop goes on
                logger.exception("outbox delivery round failed")
                self.metrics.outbox.labels("unexpected_error").inc()
                sent = 0
            if not sent:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def run_once(self) -> int:
        """Send every due delivery once; returns how many were attempted."""
        claimed = self.outbox.claim(self.owner, self.lease_seconds)
        for delivery in claimed:
            if self._stop.is_set():
                break  # its lease expires and it is sent after the restart
            self._attempt(delivery)
        figures = self.outbox.figures()
        self.metrics.outbox_pending.set(figures.counts["pending"])
        self.metrics.outbox_oldest_pending.set(figures.oldest_pending_seconds)
        return len(claimed)

    def _attempt(self, delivery: ClaimedDelivery) -> None:
        sender = self.senders.get(delivery.target)
        if sender is None:
            outcome = SendOutcome(False, final=True, problem=f"no sender is configured for '{delivery.target}'")
        else:
            try:
                outcome = sender.send(delivery)
            except Exception as error:  # a sender's bug must not lose the delivery: it is tried again
                logger.exception("delivery %s: the %s sender failed", delivery.id, delivery.target)
                self.metrics.outbox.labels("unexpected_error").inc()
                outcome = SendOutcome(False, problem=f"{type(error).__name__}: {error}")
        if outcome.delivered:
            self.outbox.delivered(delivery.id, self.owner)
            self.metrics.outbox.labels("delivered").inc()
        elif outcome.final or delivery.attempts >= self.retry.max_attempts:
            self.outbox.dead_letter(delivery.id, self.owner, outcome.problem)
            self.metrics.outbox.labels("dead_lettered").inc()
            logger.error(
                "delivery %s to %s dead-lettered after %d attempt(s): %s",
                delivery.id,
                delivery.target,
                delivery.attempts,
                outcome.problem,
            )
        else:
            delay = self.retry.delay(delivery.attempts, outcome.retry_after_seconds)
            at = datetime.now(UTC) + timedelta(seconds=delay)
            self.outbox.retry_later(delivery.id, self.owner, at, outcome.problem)
            self.metrics.outbox.labels("retried").inc()
            logger.warning(
                "delivery %s attempt %d: %s; next in %.1f s", delivery.id, delivery.attempts, outcome.problem, delay
            )
