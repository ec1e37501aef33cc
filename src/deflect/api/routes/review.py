"""The review API under `/review/api`, for reviewer and admin keys (bearer, or the review page's session cookie):
the queue, an item with its conversation, claims, labels and bulk actions, the catalogue of intents and articles to
label with, analytics and unmet needs. Every change is written to the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response

from deflect.api import review_session
from deflect.api.auth import ApiKey
from deflect.api.deps import ensure_can_review, get_service, review_session_token, reviewer_key
from deflect.api.embedding_cache import embeddings
from deflect.api.review_schemas import (
    MAX_ITEM_ID,
    ActionResult,
    AlternativeOut,
    AnalyticsOut,
    ArticleOut,
    BulkBody,
    CatalogOut,
    CountOut,
    DayOut,
    IntentOut,
    ItemDetailOut,
    LabelBody,
    LabelOut,
    NeedClusterOut,
    QueueItemOut,
    QueuePageOut,
    SessionInfo,
    SignInRequest,
    TurnOut,
    UnmetNeedsOut,
)
from deflect.api.schemas import NO_CONTROL_CHARACTERS, ErrorResponse
from deflect.conversation.service import SuggestService
from deflect.conversation.suggester import Suggester
from deflect.core.vocabulary import LabelAction, QueueReason
from deflect.store.analytics import analytics as review_analytics
from deflect.store.queue_items import LabelRequest, LabelView, QueueEntry, QueueFilter, Reviewer
from deflect.store.review import ClaimConflict, ItemNotFound, ReviewError, ReviewStore
from deflect.store.unmet_needs import cluster_needs

ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 422)}
router = APIRouter(prefix="/review/api", tags=["review"], responses=ERRORS)
Key = Annotated[ApiKey, Depends(reviewer_key)]
Service = Annotated[SuggestService, Depends(get_service)]
ItemId = Annotated[int, Path(ge=1, le=MAX_ITEM_ID)]


def _review(service: SuggestService) -> ReviewStore:
    if service.review is None:
        raise HTTPException(503, "no event database is configured, so there is no review queue")
    return service.review


def _reviewer(key: ApiKey) -> Reviewer:
    return Reviewer(key.name, key.id)


# --- session ---------------------------------------------------------------------------------------------------


@router.post("/session", response_model=SessionInfo)
def sign_in(body: SignInRequest, request: Request, response: Response) -> SessionInfo:
    """Sign in to the review page with a reviewer or admin key: sets the session cookie (the key is not kept)."""
    key = request.app.state.keys.authenticate(body.key.strip())
    if key is None:
        raise HTTPException(401, "unknown or revoked API key")
    ensure_can_review(key)
    settings = request.app.state.settings
    lifetime = settings.review_session_hours * 3600
    cookie, token = review_session.issue(request.app.state.session_secret, key.id, lifetime)
    response.set_cookie(
        review_session.COOKIE,
        cookie,
        max_age=lifetime,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/review",
    )
    return SessionInfo(reviewer=key.name, role=key.role.value, expires_at=datetime.fromtimestamp(token.expires_at, UTC))


@router.delete("/session", status_code=204)
def sign_out(request: Request, response: Response) -> Response:
    """Ends the session on the server, not only in this browser: the cookie stops working wherever it was copied."""
    token = review_session_token(request)
    if token is not None:
        request.app.state.signed_out_sessions.sign_out(token)
    response.delete_cookie(review_session.COOKIE, path="/review")
    response.status_code = 204
    return response


@router.get("/me", response_model=SessionInfo)
def me(key: Key) -> SessionInfo:
    return SessionInfo(reviewer=key.name, role=key.role.value)


# --- queue -----------------------------------------------------------------------------------------------------


def _label_out(label: LabelView) -> LabelOut:
    return LabelOut(**label.__dict__)


def _item_out(entry: QueueEntry, suggester: Suggester) -> QueueItemOut:
    name = suggester.model.display_name
    return QueueItemOut(
        **{key: value for key, value in entry.__dict__.items() if key not in ("alternatives", "label")},
        intent_name=name(entry.intent, entry.locale),
        alternatives=[
            AlternativeOut(intent=intent, name=name(intent, entry.locale), confidence=confidence)
            for intent, confidence in entry.alternatives
        ],
        label=_label_out(entry.label) if entry.label else None,
    )


@router.get("/items", response_model=QueuePageOut)
def queue(
    key: Key,
    service: Service,
    status: Annotated[str, Query(pattern="^(open|claimed|done|all)$")] = "open",
    reason: QueueReason | None = None,
    intent: Annotated[str | None, Query(max_length=128, pattern=NO_CONTROL_CHARACTERS)] = None,
    locale: Annotated[str | None, Query(pattern="^(ko|en)$")] = None,
    q: Annotated[
        str | None, Query(max_length=200, pattern=NO_CONTROL_CHARACTERS, description="Text the message contains")
    ] = None,
    mine: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ITEM_ID)] = 0,
) -> QueuePageOut:
    """The queue, highest priority first: handoffs after a struggle, other handoffs, out-of-scope messages and
    negative feedback, then unsure answers. `status=open` includes claimed items."""
    page = _review(service).queue(
        QueueFilter(
            status=None if status == "all" else status,
            reason=reason,
            intent=intent or None,
            locale=locale,
            search=q or None,
            claimed_by=key.name if mine else None,
            limit=limit,
            offset=offset,
        )
    )
    suggester = service.suggester
    return QueuePageOut(total=page.total, items=[_item_out(entry, suggester) for entry in page.entries])


@router.get("/items/{item_id}", response_model=ItemDetailOut)
def item(item_id: ItemId, key: Key, service: Service) -> ItemDetailOut:
    try:
        detail = _review(service).item(item_id)
    except ItemNotFound as error:
        raise HTTPException(404, str(error)) from None
    suggester = service.suggester
    locale = detail.entry.locale
    return ItemDetailOut(
        item=_item_out(detail.entry, suggester),
        conversation=[
            TurnOut(**turn.__dict__, intent_name=suggester.model.display_name(turn.intent, locale))
            for turn in detail.conversation
        ],
        labels=[_label_out(label) for label in detail.labels],
    )


def _act(service: SuggestService, key: Key, item_ids: list[int], body: LabelBody | BulkBody) -> ActionResult:
    review, reviewer = _review(service), _reviewer(key)
    try:
        if body.action == "claim":
            return ActionResult(item_ids=review.claim(item_ids, reviewer), action="claim")
        if body.action == "release":
            review.release(item_ids, reviewer)
            return ActionResult(item_ids=item_ids, action="release")
        if body.action == "attach_article" and body.article_id not in service.suggester.index.articles:
            raise HTTPException(422, f"no article '{body.article_id}' in the served help center")
        labels = review.label(
            item_ids,
            LabelRequest(LabelAction(body.action), body.intent, body.article_id, body.note),
            reviewer,
            known_intents=service.suggester.model.intents,
        )
    except ItemNotFound as error:
        raise HTTPException(404, str(error)) from None
    except ClaimConflict as error:
        raise HTTPException(409, str(error)) from None
    except ReviewError as error:
        raise HTTPException(422, str(error)) from None
    return ActionResult(item_ids=item_ids, action=body.action, labels=[_label_out(label) for label in labels])


@router.post("/items/{item_id}/claim", response_model=ActionResult)
def claim(item_id: ItemId, key: Key, service: Service) -> ActionResult:
    return _act(service, key, [item_id], BulkBody(action="claim", item_ids=[item_id]))


@router.post("/items/{item_id}/release", response_model=ActionResult)
def release(item_id: ItemId, key: Key, service: Service) -> ActionResult:
    return _act(service, key, [item_id], BulkBody(action="release", item_ids=[item_id]))


@router.post("/items/{item_id}/label", response_model=ActionResult)
def label(item_id: ItemId, body: LabelBody, key: Key, service: Service) -> ActionResult:
    """confirm the predicted intent; correct it to another of the model's intents; mark the message out of scope;
    propose a new intent; or attach the article that answers it (keeping the predicted intent)."""
    return _act(service, key, [item_id], body)


@router.post("/bulk", response_model=ActionResult)
def bulk(body: BulkBody, key: Key, service: Service) -> ActionResult:
    """One action on many items at once: claim, release, or a label (each item gets its own label)."""
    return _act(service, key, list(dict.fromkeys(body.item_ids)), body)


# --- what to label with ----------------------------------------------------------------------------------------


@router.get("/catalog", response_model=CatalogOut)
def catalog(key: Key, service: Service) -> CatalogOut:
    suggester = service.suggester
    model = suggester.model
    return CatalogOut(
        model_version=model.version,
        intents=[
            IntentOut(intent=i, name_ko=model.display_name(i, "ko"), name_en=model.display_name(i, "en"))
            for i in model.intents
        ],
        articles=[
            ArticleOut(id=a.id, title=a.title, locale=a.locale, url=a.url)
            for a in sorted(suggester.index.articles.values(), key=lambda a: (a.locale, a.title))
        ],
        proposed_intents=[i for i in _review(service).proposed_intents() if i not in set(model.intents)],
    )


# --- analytics and unmet needs ---------------------------------------------------------------------------------


def _counts(pairs: list[tuple[str, int]] | dict[str, int]) -> list[CountOut]:
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [CountOut(name=name, count=count) for name, count in sorted(items, key=lambda pair: -pair[1])]


@router.get("/analytics", response_model=AnalyticsOut)
def analytics(key: Key, service: Service, days: Annotated[int, Query(ge=1, le=365)] = 30) -> AnalyticsOut:
    figures = review_analytics(_review(service).events, days)
    return AnalyticsOut(
        since=figures.since,
        days=days,
        suggestions=figures.suggestions,
        conversations=figures.conversations,
        deflection_rate=figures.deflection_rate,
        handoff_rate=figures.handoff_rate,
        bot_answer_rate=figures.bot_answer_rate,
        handoffs_by_reason=_counts(figures.handoffs_by_reason),
        top_intents=_counts(figures.top_intents),
        feedback=_counts(figures.feedback),
        feedback_rates=figures.feedback_rates,
        per_day=[DayOut(**day.__dict__) for day in figures.per_day],
        queue=figures.queue,
    )


@router.get("/unmet-needs", response_model=UnmetNeedsOut)
def unmet_needs(
    key: Key,
    service: Service,
    request: Request,
    min_size: Annotated[int, Query(ge=2, le=100)] = 2,
    limit: Annotated[int, Query(ge=10, le=2000)] = 1000,
) -> UnmetNeedsOut:
    """Open out-of-scope and low-confidence messages grouped by meaning, largest group first; label a group with
    one bulk `new_intent` to turn it into a new intent."""
    entries = _review(service).texts_for_clustering(limit)
    if len(entries) < min_size:
        return UnmetNeedsOut(considered=len(entries), clusters=[])
    vectors, reference = embeddings.vectors(service.suggester, [entry.text for entry in entries])
    clusters = cluster_needs(
        entries,
        vectors,
        reference,
        request.app.state.settings.unmet_needs_distance,
        min_size=min_size,
    )
    return UnmetNeedsOut(considered=len(entries), clusters=[NeedClusterOut(**c.__dict__) for c in clusters])
