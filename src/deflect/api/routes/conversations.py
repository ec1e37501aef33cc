from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path

from deflect.api.auth import Scope
from deflect.api.deps import get_service, require
from deflect.api.schemas import IDENTIFIER, ErrorResponse, HandoffPackage
from deflect.conversation.service import SuggestService, UnknownConversation

router = APIRouter(prefix="/v1/conversations", tags=["handoff"])


@router.get(
    "/{conversation_id}/handoff",
    response_model=HandoffPackage,
    responses={status: {"model": ErrorResponse} for status in (401, 403, 404, 429)},
    dependencies=[Depends(require(Scope.HANDOFF))],
)
def handoff(
    conversation_id: Annotated[str, Path(pattern=IDENTIFIER)],
    service: Annotated[SuggestService, Depends(get_service)],
) -> HandoffPackage:
    """The package an agent receives: redacted transcript, intents, articles shown and their feedback, frustration,
    the reason for the handoff, and where it should go (team, queue, language, priority)."""
    try:
        return HandoffPackage.model_validate(service.handoff_package(conversation_id))
    except UnknownConversation as error:
        raise HTTPException(404, str(error)) from None
