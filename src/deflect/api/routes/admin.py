"""Admin routes (admin keys only): articles and answer templates, reflected in suggestions without a restart, and
activating another model + index version."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response

from deflect.api.audit import AdminKey, admin_key, record
from deflect.api.auth import ApiKey
from deflect.api.deps import get_service
from deflect.api.review_schemas import AuditEntryOut
from deflect.api.schemas import (
    IDENTIFIER,
    ActivateRequest,
    ActivationResponse,
    AnswerTemplateBody,
    AnswerTemplateOut,
    ArticleSummary,
    ArticleUpsert,
    DeletionResponse,
    ErrorResponse,
    IndexChangeResponse,
    ShadowResponse,
)
from deflect.conversation.answers import AnswerTemplate
from deflect.conversation.service import SuggestService
from deflect.conversation.suggester import Suggester
from deflect.core.records import Article
from deflect.lifecycle import shadow as shadow_mode
from deflect.lifecycle.activation import ActivationInProgress, ActivationState, ModelActivator
from deflect.lifecycle.registry import record_index_change
from deflect.retrieval.index import IndexChanges
from deflect.store.audit import AuditQuery, deletion_change
from deflect.store.events import Deleted, as_utc

ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 422)}
router = APIRouter(prefix="/admin", tags=["admin"], responses=ERRORS, dependencies=[Depends(admin_key)])
Service = Annotated[SuggestService, Depends(get_service)]
ArticleId = Annotated[str, Path(pattern=IDENTIFIER)]
Intent = Annotated[str, Path(pattern=IDENTIFIER)]
Identifier = Annotated[str, Path(pattern=IDENTIFIER)]


@router.get("/articles", response_model=list[ArticleSummary])
def list_articles(service: Service) -> list[ArticleSummary]:
    return [
        ArticleSummary(id=a.id, title=a.title, locale=a.locale, url=a.url, group=a.group_id, intents=list(a.intents))
        for a in service.suggester.index.articles.values()
    ]


@router.put("/articles/{article_id}", response_model=IndexChangeResponse)
def upsert_article(article_id: ArticleId, body: ArticleUpsert, service: Service, key: AdminKey) -> IndexChangeResponse:
    """Add or replace an article: it is chunked and embedded now, and the next suggestion can show it."""
    article = Article(
        id=article_id,
        title=body.title,
        body=body.body,
        locale=body.locale,
        url=body.url,
        group_id=body.group or article_id,
        intents=tuple(body.intents),
        section=body.section,
    )
    suggester = service.suggester
    before = suggester.index.articles.get(article_id)
    changes = suggester.upsert_article(article)
    details = {"before": _article_details(before), "after": _article_details(article)}
    record(service, key, "article.upsert", f"article:{article_id}", details)
    return _index_change(article_id, changes, suggester, service)


@router.delete("/articles/{article_id}", response_model=IndexChangeResponse)
def delete_article(article_id: ArticleId, service: Service, key: AdminKey) -> IndexChangeResponse:
    suggester = service.suggester
    before = suggester.index.articles.get(article_id)
    changes = suggester.delete_article(article_id)
    if changes is None:
        raise HTTPException(404, f"no article '{article_id}'")
    record(service, key, "article.delete", f"article:{article_id}", {"before": _article_details(before)})
    return _index_change(article_id, changes, suggester, service)


def _article_details(article: Article | None) -> dict[str, Any] | None:
    """What the audit trail keeps of an article: everything but the body, which it knows by hash and length."""
    if article is None:
        return None
    return {
        "title": article.title,
        "locale": article.locale,
        "url": article.url,
        "group": article.group_id,
        "intents": list(article.intents),
        "section": article.section,
        "body_sha256": hashlib.sha256(article.body.encode()).hexdigest(),
        "body_chars": len(article.body),
    }


def _index_change(
    article_id: str, changes: IndexChanges, suggester: Suggester, service: SuggestService
) -> IndexChangeResponse:
    """The change is saved as a new index version the served root now points at: record it for the registry's
    active entry (when that entry serves this root) and prune the root's old versions."""
    record_index_change(service.settings.model_registry_file, suggester.index_dir)
    return IndexChangeResponse(
        article_id=article_id,
        added=changes.added,
        updated=changes.updated,
        deleted=changes.deleted,
        embedded_chunks=changes.embedded_chunks,
        index_version=suggester.index.version,
    )


def _template_out(template: AnswerTemplate) -> AnswerTemplateOut:
    return AnswerTemplateOut(intent=template.intent, article_group=template.article_group, texts=template.texts)  # type: ignore[arg-type]


def _template_details(template: AnswerTemplate | None) -> dict[str, Any] | None:
    return None if template is None else {"article_group": template.article_group, "texts": dict(template.texts)}


@router.get("/answers", response_model=list[AnswerTemplateOut])
def list_answers(service: Service) -> list[AnswerTemplateOut]:
    return [_template_out(template) for template in service.answers.all()]


@router.put("/answers/{intent}", response_model=AnswerTemplateOut)
def upsert_answer(intent: Intent, body: AnswerTemplateBody, service: Service, key: AdminKey) -> AnswerTemplateOut:
    """Add or replace the bot answer of an intent; used from the next suggestion on."""
    if intent not in service.suggester.model.intents:
        raise HTTPException(404, f"the active model has no intent '{intent}'")
    template = AnswerTemplate(intent, body.article_group, {str(locale): text for locale, text in body.texts.items()})
    before = service.answers.get(intent)
    service.answers.upsert(template)
    details = {"before": _template_details(before), "after": _template_details(template)}
    record(service, key, "answer.upsert", f"answer:{intent}", details)
    return _template_out(template)


@router.delete("/answers/{intent}", status_code=204)
def delete_answer(intent: Intent, service: Service, key: AdminKey) -> Response:
    before = service.answers.get(intent)
    if not service.answers.delete(intent):
        raise HTTPException(404, f"no answer template for '{intent}'")
    record(service, key, "answer.delete", f"answer:{intent}", {"before": _template_details(before)})
    return Response(status_code=204)


def _activator(request: Request, service: Service) -> ModelActivator:
    return request.app.state.activator


def _activation(activator: ModelActivator) -> ActivationResponse:
    state, suggester = activator.state, activator.service.suggester
    return ActivationResponse(
        status=state.status,
        requested_model=state.model_dir,
        requested_index=state.index_dir,
        error=state.error,
        started_at=state.started_at,
        finished_at=state.finished_at,
        active_model_version=suggester.model.version,
        active_index_version=suggester.index.version,
    )


def _start(activator: ModelActivator, body: ActivateRequest, key: ApiKey | None, what: str) -> None:
    """Start loading the pair in the background; the audit trail records the request (with the versions served
    before it) and its outcome."""
    model_dir, index_dir = FilePath(body.model), FilePath(body.index)
    for name, folder in (("model", model_dir), ("index", index_dir)):
        try:
            found = (folder / "manifest.json").is_file()
        except (OSError, ValueError) as error:  # a name longer than the file system takes, a NUL byte, …
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            shown = str(folder) if len(str(folder)) <= 80 else f"{str(folder)[:80]}…"
            raise HTTPException(422, f"{name}: '{shown}' is not a usable path on the server ({reason})") from None
        if not found:
            raise HTTPException(404, f"{name} folder '{folder}' has no manifest.json on the server")
    service = activator.service
    before = {"model_version": service.suggester.model.version, "index_version": service.suggester.index.version}
    if what == "shadow" and service.shadow is not None:
        before["shadow_model_version"] = service.shadow.model_version
    requested = {"model": str(model_dir), "index": str(index_dir)}
    target = f"{what}:{model_dir}"

    requested_recorded = threading.Event()

    def finished(state: ActivationState) -> None:
        requested_recorded.wait(timeout=10)  # the outcome is never recorded before the request
        outcome = {"status": state.status, "error": state.error, **requested}
        record(service, key, f"{what}.{'activated' if state.status == 'active' else 'failed'}", target, outcome)

    try:
        activator.start(model_dir, index_dir, on_finished=finished)
    except ActivationInProgress as error:
        raise HTTPException(409, str(error)) from None
    try:
        record(service, key, f"{what}.activate", target, {"before": before, "requested": requested})
    finally:
        requested_recorded.set()


@router.post("/models/activate", response_model=ActivationResponse, status_code=202)
def activate(
    body: ActivateRequest, activator: Annotated[ModelActivator, Depends(_activator)], key: AdminKey
) -> ActivationResponse:
    """Load a model + index version in the background and swap it in atomically once it is ready; poll
    `GET /admin/models/activation` for the outcome. Requests are answered by the active pair meanwhile."""
    _start(activator, body, key, "model")
    return _activation(activator)


@router.get("/models/activation", response_model=ActivationResponse)
def activation(activator: Annotated[ModelActivator, Depends(_activator)]) -> ActivationResponse:
    return _activation(activator)


def _shadow_activator(request: Request) -> ModelActivator:
    return request.app.state.shadow_activator


def _shadow(activator: ModelActivator) -> ShadowResponse:
    state, shadow = activator.state, activator.service.shadow
    return ShadowResponse(
        status=state.status if shadow is not None or state.status in ("loading", "failed") else "off",
        requested_model=state.model_dir,
        requested_index=state.index_dir,
        error=state.error,
        shadow_model_version=shadow.model_version if shadow else None,
        active_model_version=activator.service.suggester.model.version,
    )


@router.post("/models/shadow", response_model=ShadowResponse, status_code=202)
def start_shadow(
    body: ActivateRequest, activator: Annotated[ModelActivator, Depends(_shadow_activator)], key: AdminKey
) -> ShadowResponse:
    """Load a candidate model + index in the background and let it score live traffic beside the active pair
    without changing answers; `deflect models shadow-report` shows where the two disagree."""
    if activator.service.events is None:
        raise HTTPException(409, "shadow mode stores its predictions in the event database; configure one")
    _start(activator, body, key, "shadow")
    return _shadow(activator)


@router.get("/models/shadow", response_model=ShadowResponse)
def shadow_status(activator: Annotated[ModelActivator, Depends(_shadow_activator)]) -> ShadowResponse:
    return _shadow(activator)


@router.delete("/models/shadow", response_model=ShadowResponse)
def stop_shadow(activator: Annotated[ModelActivator, Depends(_shadow_activator)], key: AdminKey) -> ShadowResponse:
    shadow = activator.service.shadow
    if shadow is None or not shadow_mode.stop_shadow(activator.service):
        raise HTTPException(404, "no shadow model is running")
    before = {"shadow_model_version": shadow.model_version}
    record(activator.service, key, "shadow.stop", f"shadow:{activator.state.model_dir}", {"before": before})
    activator.state = ActivationState("idle")
    return _shadow(activator)


def _deletion(
    service: SuggestService, key: ApiKey | None, kind: str, subject: str, deleted: Deleted, live: int
) -> DeletionResponse:
    """The response, and the audit entry (with the live conversation states that went too)."""
    action, target, counts = deletion_change(kind, subject, deleted)
    record(service, key, action, target, {**counts, "live_conversations": live})
    return DeletionResponse(
        conversations=deleted.conversation_ids,
        suggestions=deleted.suggestions,
        feedback=deleted.feedback,
        review_labels=deleted.labels,
        live_conversations=live,
    )


@router.delete("/conversations/{conversation_id}", response_model=DeletionResponse)
def delete_conversation(conversation_id: Identifier, service: Service, key: AdminKey) -> DeletionResponse:
    """Delete everything stored for a conversation (a data subject's request under PIPA or GDPR): its stored
    suggestions and feedback and its live state."""
    return _deletion(service, key, "conversation", conversation_id, *service.delete_conversation(conversation_id))


@router.delete("/customers/{customer_id}", response_model=DeletionResponse)
def delete_customer(customer_id: Identifier, service: Service, key: AdminKey) -> DeletionResponse:
    """Delete everything stored for a customer id (sent as `customer_id` with their messages), in every
    conversation they had."""
    return _deletion(service, key, "customer", customer_id, *service.delete_customer(customer_id))


@router.get("/audit", response_model=list[AuditEntryOut])
def audit_trail(
    service: Service,
    actor: Annotated[str | None, Query(max_length=128, description="A key's name, or cli:<user>")] = None,
    actor_key_id: Annotated[str | None, Query(max_length=32, description="A key's id")] = None,
    action: Annotated[
        str | None, Query(max_length=64, description="An action, or a family ending in '.': article.")
    ] = None,
    target: Annotated[
        str | None, Query(max_length=200, description="e.g. article:faq-12, answer:refund_status")
    ] = None,
    since: Annotated[datetime | None, Query(description="From this time on (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="Before this time (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[AuditEntryOut]:
    """Who changed what and when, newest first: review claims and labels, articles, answer templates, keys,
    model activation, promotion and rollback, shadow mode, deliveries, deletions on request."""
    if service.audit is None:
        raise HTTPException(503, "no event database is configured")
    query = AuditQuery(actor, actor_key_id, action, target, _utc(since), _utc(until), limit, offset)
    return [
        AuditEntryOut(
            id=entry.id,
            at=as_utc(entry.at),
            actor=entry.actor,
            actor_key_id=entry.actor_key_id,
            action=entry.action,
            target=entry.target,
            details=entry.details,
        )
        for entry in service.audit.entries(query)
    ]


def _utc(moment: datetime | None) -> datetime | None:
    """A time given without a zone is read as UTC."""
    return None if moment is None else as_utc(moment)
