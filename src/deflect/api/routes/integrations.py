"""Routes vendors call: the KakaoTalk channel's skill server (Kakao i Open Builder) and Chatwoot's Agent Bot
webhook."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from deflect.api.auth import Scope
from deflect.api.deps import conversation_caller, get_service
from deflect.api.schemas import ErrorResponse
from deflect.connectors import chatwoot, kakao
from deflect.conversation.access import Caller, ConversationForbidden
from deflect.conversation.clarify import UnknownChoice
from deflect.conversation.results import ChannelReply, CustomerMessage, Suggestion
from deflect.conversation.service import SuggestService
from deflect.delivery.webhook import verify_signature
from deflect.store.outbox import Outbox

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/integrations", tags=["integrations"])
Service = Annotated[SuggestService, Depends(get_service)]
REFUSALS = (401, 403, 404, 422, 429, 503)
ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorResponse} for status in REFUSALS}
_answering = ThreadPoolExecutor(max_workers=8, thread_name_prefix="kakao-skill")


def _suggest(
    service: SuggestService, message: CustomerMessage, caller: Caller, reply: ChannelReply | None = None
) -> Suggestion:
    """A channel's option buttons stay in the chat: one tapped after its question was answered is read as the
    text it says, not refused as the API refuses it."""
    try:
        return service.suggest(message, caller, reply)
    except UnknownChoice:
        return service.suggest(replace(message, choice=None), caller, reply)


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
        return kakao.skill_response(_suggest(service, message, caller), block)

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


@router.post("/chatwoot/webhook", responses=ERRORS)
async def chatwoot_webhook(
    request: Request,
    service: Service,
    caller: Annotated[Caller, Depends(conversation_caller(Scope.SUGGEST, query_key=True))],
) -> dict[str, Any]:
    """Chatwoot's Agent Bot webhook (its outgoing URL, with a server key as `?key=…`). A customer's message in a
    conversation the bot holds is answered through Chatwoot's API from the outbox; any other event is acknowledged
    and left alone. When the event store is down the answer is 503, and Chatwoot opens the conversation to agents."""
    settings = service.settings
    if not settings.chatwoot_url or service.events is None:
        raise HTTPException(404, "Chatwoot is not configured here: set DEFLECT_CHATWOOT_URL and _API_TOKEN")
    body = await request.body()
    secret = settings.chatwoot_webhook_secret
    headers = request.headers
    # Chatwoot signs as Deflect's own webhook does: X-Chatwoot-Signature: sha256=HMAC(secret, "{timestamp}.{body}")
    if secret and not verify_signature(
        secret, headers.get("x-chatwoot-timestamp", ""), body, headers.get("x-chatwoot-signature", "")
    ):
        raise HTTPException(401, "X-Chatwoot-Signature does not sign this body with X-Chatwoot-Timestamp, or is stale")
    try:
        event = chatwoot.WebhookEvent.model_validate_json(body)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors()[:5])
        raise HTTPException(422, f"not a Chatwoot webhook event: {problems}") from None
    if (reason := chatwoot.ignored_because(event)) is not None:
        return {"status": "ignored", "reason": reason}
    return await run_in_threadpool(_answer_chatwoot, service, caller, event)


def _answer_chatwoot(service: SuggestService, caller: Caller, event: chatwoot.WebhookEvent) -> dict[str, Any]:
    delivery_id = chatwoot.delivery_id(event)
    assert service.events is not None
    if Outbox(service.events).has(delivery_id):
        return {"status": "duplicate", "delivery_id": delivery_id}
    teams = service.settings.chatwoot_teams

    def payload(suggestion: Suggestion, package: dict[str, Any] | None) -> dict[str, Any]:
        return chatwoot.reply_payload(event, suggestion, package, teams)

    reply = ChannelReply(delivery_id, chatwoot.TARGET, payload)
    message = chatwoot.customer_message(event)
    try:
        suggestion = _suggest(service, message, caller, reply)
    except ConversationForbidden as error:
        raise HTTPException(403, str(error)) from None
    except IntegrityError:  # the same event, delivered twice at once: the other delivery answers it
        return {"status": "duplicate", "delivery_id": delivery_id}
    except SQLAlchemyError:
        logger.exception("chatwoot: the event store failed for %s", message.conversation_id)
        raise HTTPException(503, "the event store is unavailable: Chatwoot hands the conversation to agents") from None
    return {"status": "queued", "delivery_id": delivery_id, "decision": suggestion.decision.value}
