"""Prometheus metrics of one app instance (its own registry, so several apps in one process don't collide)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.decisions = Counter(
            "deflect_decisions",
            "Suggestions by decision and reason",
            ["decision", "reason_code"],
            registry=self.registry,
        )
        self.feedback = Counter("deflect_feedback", "Feedback by kind", ["feedback"], registry=self.registry)
        self.handoffs = Counter(
            "deflect_handoffs", "Handoffs by team and priority", ["team", "priority"], registry=self.registry
        )
        self.typeahead = Counter(
            "deflect_typeahead", "Typeahead requests by whether articles were shown", ["shown"], registry=self.registry
        )
        self.outbox = Counter(
            "deflect_outbox_deliveries",
            "Outbox deliveries: queued, delivered, retried (an attempt failed), dead_lettered (given up), "
            "unexpected_error (a bug or the database; the worker went on)",
            ["outcome"],
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "deflect_outbox_pending", "Deliveries waiting in the outbox", registry=self.registry
        )
        self.outbox_oldest_pending = Gauge(
            "deflect_outbox_oldest_pending_seconds",
            "Age of the oldest delivery waiting in the outbox",
            registry=self.registry,
        )
        self.shadow = Counter(
            "deflect_shadow_predictions",
            "Shadow model work: scored, dropped (it fell behind), failed",
            ["outcome"],
            registry=self.registry,
        )
        self.commit_batch = Histogram(
            "deflect_event_commit_batch_size",
            "Suggestions stored per event-database transaction (group commit of concurrent requests)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
            registry=self.registry,
        )
        self.latency = Histogram(
            "deflect_request_seconds",
            "Request handling time by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
