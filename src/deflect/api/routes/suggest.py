from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel

from deflect.api.auth import Scope
from deflect.api.deps import conversation_caller, get_service
from deflect.api.schemas import (
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
    SuggestRequest,
    SuggestResponse,
    TypeaheadRequest,
    TypeaheadResponse,
)
from deflect.api.visitor_limits import charge_conversation, charge_visitor
from deflect.conversation.access import Caller, ConversationForbidden
from deflect.conversation.clarify import Choice, UnknownChoice
from deflect.conversation.results import CustomerMessage, FeedbackGiven, Turn
from deflect.conversation.service import SuggestService, UnknownArticle, UnknownSuggestion

router = APIRouter(prefix="/v1", tags=["suggest"])
Service = Annotated[SuggestService, Depends(get_service)]
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (401, 403, 404, 413, 422, 429)
}


def encoded(response: BaseModel) -> Response:
    """The response validated once (by the route) and serialised once, by pydantic's own encoder: returned as a model,
    FastAPI would validate it again and encode it through jsonable_encoder and json.dumps."""
    return Response(response.model_dump_json(), media_type="application/json")


@router.post("/suggest", response_model=SuggestResponse, responses=ERRORS)
def suggest(
    request: SuggestRequest,
    http: Request,
    service: Service,
    caller: Annotated[Caller, Depends(conversation_caller(Scope.SUGGEST))],
) -> Response:
    """Intent, article suggestions and a decision (bot_answer / suggest_articles / clarify / handoff) with its reason,
    for one customer message; pass `conversation_id` and `conversation_token` back on the next message to keep the
    conversation together. A `clarify` decision carries a question and its options: send the option the customer
    picks back as `choice` (or their typed reply as `text`). A choice that answers no open question of the
    conversation is a 422."""
    charge_visitor(http, caller, len(request.text) + sum(len(turn.text) for turn in request.history))
    if request.conversation_id is not None:
        charge_conversation(http, caller, request.conversation_id, request.conversation_token)
    started = time.perf_counter()
    message = CustomerMessage(
        text=request.text,
        locale=request.locale,
        conversation_id=request.conversation_id,
        conversation_token=request.conversation_token,
        customer_id=request.customer_id,
        channel=request.channel,
        page_url=request.page_url,
        history=tuple(Turn(turn.role, turn.text) for turn in request.history),
        choice=Choice(request.choice.suggestion_id, request.choice.kind, request.choice.intent)
        if request.choice
        else None,
    )
    try:
        response = SuggestResponse.model_validate(service.suggest(message, caller))
    except ConversationForbidden as error:
        raise HTTPException(403, str(error)) from None
    except UnknownChoice as error:
        raise HTTPException(422, str(error)) from None
    service.metrics.latency.labels("suggest").observe(time.perf_counter() - started)
    return encoded(response)


@router.post("/suggest/typeahead", response_model=TypeaheadResponse, responses=ERRORS)
def typeahead(
    request: TypeaheadRequest,
    http: Request,
    service: Service,
    caller: Annotated[Caller, Depends(conversation_caller(Scope.TYPEAHEAD))],
) -> Response:
    """Articles for what the customer has typed so far: empty until the text is long and clear enough."""
    charge_visitor(http, caller, len(request.text))
    started = time.perf_counter()
    response = TypeaheadResponse.model_validate(service.typeahead(request.text, request.locale))
    service.metrics.latency.labels("typeahead").observe(time.perf_counter() - started)
    return encoded(response)


@router.post("/feedback", response_model=FeedbackResponse, responses=ERRORS)
def feedback(
    request: FeedbackRequest,
    http: Request,
    service: Service,
    caller: Annotated[Caller, Depends(conversation_caller(Scope.FEEDBACK))],
) -> FeedbackResponse:
    """helpful / not_helpful / resolved / escalated, on a suggestion (with its conversation token, from a widget).
    Repeated unhelpful feedback in a conversation hands its next message to a person."""
    charge_visitor(http, caller, 0)
    given = FeedbackGiven(request.suggestion_id, request.feedback, request.article_id, request.conversation_token)
    try:
        return FeedbackResponse.model_validate(service.feedback(given, caller))
    except UnknownSuggestion as error:
        raise HTTPException(404, str(error)) from None
    except ConversationForbidden as error:
        raise HTTPException(403, str(error)) from None
    except UnknownArticle as error:
        raise HTTPException(422, str(error)) from None
