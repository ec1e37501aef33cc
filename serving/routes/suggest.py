from __future__ import annotations

from typing import Annotated

from deflect.serving.deps import get_suggester
from deflect.serving.schemas import ErrorResponse, SuggestRequest, SuggestResponse
from deflect.serving.suggester import Suggester
from fastapi import APIRouter, Depends

router = APIRouter(prefix="/v1", tags=["suggest"])


@router.post("/suggest", response_model=SuggestResponse, responses={422: {"model": ErrorResponse}})
def suggest(request: SuggestRequest, suggester: Annotated[Suggester, Depends(get_suggester)]) -> SuggestResponse:
    """Intent, article suggestions and a decision (bot_answer / suggest_articles / handoff) for one message."""
    return suggester.suggest(request.text, request.locale)
