"""Routes vendors call: the KakaoTalk channel's skill server (Kakao i Open Builder)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.exc import SQLAlchemyError

from deflect.api.auth import Scope
from deflect.api.deps import conversation_caller, get_service
from deflect.api.schemas import ErrorResponse
from deflect.connectors import kakao
from deflect.conversation.access import Caller, ConversationForbidden
from deflect.conversation.clarify import UnknownChoice
from deflect.conversation.service import SuggestService

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/integrations", tags=["integrations"])
Service = Annotated[SuggestService, Depends(get_service)]
ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorResponse} for status in (401, 403, 422, 429)}
_answering = ThreadPoolExecutor(max_workers=8, thread_name_prefix="kakao-skill")


@router.post("/kakao/skill", responses=ERRORS)
def kakao_skill(
    request: kakao.SkillRequest,
    service: Service,
    caller: Annotated[Caller, Depends(conversation_caller(Scope.SUGGEST, query_key=True))],
) -> dict[str, Any]:
    """A Kakao i Open Builder skill: the utterance of `userRequest.user` answered in the skill response format 2.0
    within `DEFLECT_KAKAO_DEADLINE_SECONDS`. Call it with a server key (`Authorization: Bearer …`, or `?key=…` in
    the skill URL). When no answer can be made in time, or the event store is down, the customer gets an apology
    and the way to a person, not an error."""
    block = service.settings.kakao_handoff_block_id
    message = kakao.customer_message(request)

    def answer() -> dict[str, Any]:
        try:
            suggestion = service.suggest(message, caller)
        except UnknownChoice:  # an old quick reply tapped again: read what it says instead
            suggestion = service.suggest(replace(message, choice=None), caller)
        return kakao.skill_response(suggestion, block)

    pending = _answering.submit(answer)
    try:
        return pending.result(timeout=service.settings.kakao_deadline_seconds)
    except FutureTimeout:
        logger.warning("kakao skill: no answer for %s within the deadline", message.conversation_id)
    except ConversationForbidden as error:
        raise HTTPException(403, str(error)) from None
    except SQLAlchemyError:
        logger.exception("kakao skill: the event store failed for %s", message.conversation_id)
    return kakao.unavailable_response(block)
