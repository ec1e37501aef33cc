"""Budgets under a key's rate limit. A widget key is shared by every visitor of a site, so its limit alone lets one
visitor spend the whole site's budget, and long texts make each request cost the encoder more: a widget caller is
also counted by client address, in requests and in characters, and every conversation by its messages."""

from __future__ import annotations

import hashlib

from fastapi import HTTPException, Request

from deflect.api.limits import RateLimiter
from deflect.conversation.access import Caller, CallerKind
from deflect.core.settings import Settings


def client_address(request: Request) -> str:
    """The visitor's address: uvicorn puts the X-Forwarded-For address here for trusted proxies
    (DEFLECT_FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else "unknown"


def _refuse(limit: int, what: str, retry_after: float) -> HTTPException:
    return HTTPException(
        429, f"rate limit of {limit} {what} per minute reached", headers={"Retry-After": str(int(retry_after))}
    )


def charge_visitor(request: Request, caller: Caller, characters: int) -> None:
    """One request of `characters` from a widget's visitor; server and admin keys answer for their own callers."""
    if caller.kind is not CallerKind.PUBLIC:
        return
    settings: Settings = request.app.state.settings
    limiter: RateLimiter = request.app.state.rate_limiter
    address = f"{caller.key_id}:{client_address(request)}"
    budgets = (
        ("address", 1, settings.visitor_requests_per_minute, "requests from your address"),
        ("characters", characters, settings.visitor_characters_per_minute, "characters of text from your address"),
    )
    for bucket, amount, limit, what in budgets:
        if limit and (retry_after := limiter.take(f"{bucket}:{address}", amount, limit)) is not None:
            raise _refuse(limit, what, retry_after)


def charge_conversation(request: Request, caller: Caller, conversation_id: str, token: str | None) -> None:
    """One message in a named conversation. The bucket is the caller's key and the token it presented, so a
    visitor naming someone else's conversation (refused anyway) does not spend that conversation's budget."""
    settings: Settings = request.app.state.settings
    if not (limit := settings.conversation_messages_per_minute):
        return
    presented = hashlib.sha256(token.encode()).hexdigest()[:16] if token else "-"
    bucket = f"conversation:{caller.key_id}:{presented}:{conversation_id}"
    if (retry_after := request.app.state.rate_limiter.take(bucket, 1, limit)) is not None:
        raise _refuse(limit, "messages in this conversation", retry_after)
