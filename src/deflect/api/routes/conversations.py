from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path

from deflect.api.auth import Scope
from deflect.api.deps import conversation_caller, get_service
from deflect.api.schemas import IDENTIFIER, ErrorResponse, HandoffPackage
from deflect.conversation.access import Caller, ConversationForbidden
from deflect.conversation.service import SuggestService, UnknownConversation

router = APIRouter(prefix="/v1/conversations", tags=["handoff"])


@router.get(
    "/{conversation_id}/handoff",
    response_model=HandoffPackage,
    responses={status: {"model": ErrorResponse} for status in (401, 403, 404, 429)},
)
def handoff(
    conversation_id: Annotated[str, Path(pattern=IDENTIFIER)],
    service: Annotated[SuggestService, Depends(get_service)],
    caller: Annotated[Caller, Depends(conversation_caller(Scope.HANDOFF))],
    conversation_token: Annotated[
        str | None,
        Header(
            alias="X-Conversation-Token", max_length=128, description="The conversation's token (widget keys need it)"
        ),
    ] = None,
) -> HandoffPackage:
    """The package an agent receives: redacted transcript, intents, articles shown and their feedback, frustration,
    the reason for the handoff, and where it should go (team, queue, language, priority). A widget sends the
    conversation's token in the X-Conversation-Token header."""
    try:
        return HandoffPackage.model_validate(service.handoff_package(conversation_id, caller, conversation_token))
    except UnknownConversation as error:
        raise HTTPException(404, str(error)) from None
    except ConversationForbidden as error:
        raise HTTPException(403, str(error)) from None
