from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from deflect.api.auth import Scope
from deflect.api.deps import get_service, require
from deflect.api.schemas import (
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
    SuggestRequest,
    SuggestResponse,
    TypeaheadRequest,
    TypeaheadResponse,
)
from deflect.conversation.results import CustomerMessage, FeedbackGiven, Turn
from deflect.conversation.service import SuggestService, UnknownSuggestion

router = APIRouter(prefix="/v1", tags=["suggest"])
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (401, 403, 404, 413, 422, 429)
}


@router.post(
    "/suggest", response_model=SuggestResponse, responses=ERRORS, dependencies=[Depends(require(Scope.SUGGEST))]
)
def suggest(request: SuggestRequest, service: Annotated[SuggestService, Depends(get_service)]) -> SuggestResponse:
    """Intent, article suggestions and a decision (bot_answer / suggest_articles / handoff) with its reason, for one
    customer message; pass `conversation_id` back on the next message to keep the conversation together."""
    started = time.perf_counter()
    message = CustomerMessage(
        text=request.text,
        locale=request.locale,
        conversation_id=request.conversation_id,
        customer_id=request.customer_id,
        channel=request.channel,
        page_url=request.page_url,
        history=tuple(Turn(turn.role, turn.text) for turn in request.history),
    )
    response = SuggestResponse.model_validate(service.suggest(message))
    service.metrics.latency.labels("suggest").observe(time.perf_counter() - started)
    return response


@router.post(
    "/suggest/typeahead",
    response_model=TypeaheadResponse,
    responses=ERRORS,
    dependencies=[Depends(require(Scope.TYPEAHEAD))],
)
def typeahead(request: TypeaheadRequest, service: Annotated[SuggestService, Depends(get_service)]) -> TypeaheadResponse:
    """Articles for what the customer has typed so far: empty until the text is long and clear enough."""
    started = time.perf_counter()
    response = TypeaheadResponse.model_validate(service.typeahead(request.text, request.locale))
    service.metrics.latency.labels("typeahead").observe(time.perf_counter() - started)
    return response


@router.post(
    "/feedback", response_model=FeedbackResponse, responses=ERRORS, dependencies=[Depends(require(Scope.FEEDBACK))]
)
def feedback(request: FeedbackRequest, service: Annotated[SuggestService, Depends(get_service)]) -> FeedbackResponse:
    """helpful / not_helpful / resolved / escalated, on a suggestion. Repeated unhelpful feedback in a conversation
    hands its next message to a person."""
    try:
        outcome = service.feedback(FeedbackGiven(request.suggestion_id, request.feedback, request.article_id))
        return FeedbackResponse.model_validate(outcome)
    except UnknownSuggestion as error:
        raise HTTPException(404, str(error)) from None
