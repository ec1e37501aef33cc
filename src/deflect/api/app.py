"""The FastAPI application: `create_app()` loads the configured model and index once, at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

import deflect
from deflect.api.auth import KeyStore
from deflect.api.body_limit import BodySizeLimit
from deflect.api.errors import document_unreadable_bodies, install_error_handlers
from deflect.api.limits import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from deflect.api.outbound import delivery_worker, handoff_senders, reply_senders
from deflect.api.process_memory import return_freed_memory
from deflect.api.review_session import (
    MemorySignedOutSessions,
    RedisSignedOutSessions,
    SignedOutSessions,
    load_secret,
)
from deflect.api.routes import (
    admin,
    content_gaps,
    conversations,
    deliveries,
    health,
    integrations,
    review,
    review_pages,
    suggest,
    widget,
)
from deflect.api.schemas import handoff_payload
from deflect.conversation.access import ConversationTokens
from deflect.conversation.answers import AnswerTemplates
from deflect.conversation.metrics import ServiceMetrics
from deflect.conversation.routing import HandoffRouter
from deflect.conversation.service import SuggestService
from deflect.conversation.state import ConversationStore, MemoryConversationStore, RedisConversationStore
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings, get_settings
from deflect.lifecycle.activation import ModelActivator, warm_up
from deflect.lifecycle.shadow import start_shadow, stop_shadow
from deflect.store.events import EventStore
from deflect.store.retention import RetentionJob


def conversation_store(settings: Settings) -> ConversationStore:
    if settings.redis_url:
        return RedisConversationStore(settings.redis_url, settings.conversation_ttl_seconds)
    return MemoryConversationStore(settings.conversation_ttl_seconds)


def rate_limiter(settings: Settings) -> RateLimiter:
    return RedisRateLimiter(settings.redis_url) if settings.redis_url else MemoryRateLimiter()


def signed_out_sessions(settings: Settings) -> SignedOutSessions:
    return RedisSignedOutSessions(settings.redis_url) if settings.redis_url else MemorySignedOutSessions()


def build_service(
    settings: Settings,
    metrics: ServiceMetrics,
    suggester: Suggester | None,
    secret: bytes,
    handoff_targets: tuple[str, ...] = (),
) -> SuggestService:
    return SuggestService(
        suggester or Suggester.load(settings),
        conversation_store(settings),
        AnswerTemplates.load(settings.answers_file, settings.answers_overrides_file),
        HandoffRouter.load(settings.routing_file),
        settings,
        metrics,
        EventStore.open(settings.database_url, settings.event_commit_batch, metrics.commit_batch.observe),
        handoff_payload=handoff_payload,
        handoff_targets=handoff_targets,
        tokens=ConversationTokens(secret),  # the session secret: every worker shares it
    )


@contextmanager
def one_thread_per_numeric_call() -> Iterator[None]:
    """While the app serves, BLAS and FAISS use one thread per call: concurrency comes from requests and their
    batches, and idle pools spinning on the two cores the encoder and the request threads need cost more than a
    small matrix split across cores gains (the original encoder's p95 at concurrency 1 was ~100 ms without this)."""
    import faiss
    from threadpoolctl import threadpool_limits

    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        faiss.omp_set_num_threads(previous)


def create_app(settings: Settings | None = None, suggester: Suggester | None = None) -> FastAPI:
    """With a `suggester`, the app serves it (tests, benchmarks); otherwise it loads the configured artifacts."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "service", None) is None:
            metrics = ServiceMetrics()
            handoff_to = handoff_senders(settings)
            senders = {**handoff_to, **reply_senders(settings)}
            service = app.state.service = build_service(
                settings, metrics, suggester, app.state.session_secret, tuple(handoff_to)
            )
            if senders:
                assert service.events is not None
                app.state.delivery = delivery_worker(settings, metrics, service.events, senders)
                service.on_queued = app.state.delivery.start().wake
            app.state.activator = ModelActivator(service)
            app.state.shadow_activator = ModelActivator(service, install=partial(start_shadow, service))
            warm_up(app.state.service.suggester)
            return_freed_memory()
            if settings.shadow_model_dir and settings.shadow_index_dir:
                app.state.shadow_activator.start(settings.shadow_model_dir, settings.shadow_index_dir)
        retention = RetentionJob(app.state.service.events, settings.event_retention_days, settings.audit_retention_days)
        with one_thread_per_numeric_call():
            yield
        retention.stop()
        stop_shadow(app.state.service)
        app.state.service.suggester.close()
        if app.state.delivery is not None:
            app.state.delivery.stop()

    app = FastAPI(
        title="Deflect",
        version=deflect.__version__,
        description="Intent detection, help-center article suggestions and calibrated handoff for support chat.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = None
    app.state.delivery = None
    app.state.keys = KeyStore(settings.api_keys_file)
    app.state.session_secret = load_secret(
        settings.session_secret_file or settings.api_keys_file.parent / "session_secret"
    )
    app.state.rate_limiter = rate_limiter(settings)
    app.state.signed_out_sessions = signed_out_sessions(settings)
    install_error_handlers(app)
    document_unreadable_bodies(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "x-api-key", "x-conversation-token"],
            max_age=600,
        )
    app.include_router(suggest.router)
    app.include_router(conversations.router)
    app.include_router(admin.router)
    app.include_router(deliveries.router)
    app.include_router(integrations.router)
    app.include_router(health.router)
    app.include_router(review.router)
    app.include_router(content_gaps.router)
    app.include_router(review_pages.router)
    app.mount("/review/static", review_pages.assets, name="review-static")
    app.include_router(widget.router)
    return app
