"""What routes receive through FastAPI dependencies: the service, and the caller's API key checked for a scope
and counted against its rate limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from deflect.api import review_session
from deflect.api.auth import ApiKey, Role, Scope
from deflect.api.limits import MemoryRateLimiter
from deflect.conversation.access import LOCAL_CALLER, Caller, CallerKind
from deflect.conversation.service import SuggestService

CALLER_KINDS = {Role.WIDGET: CallerKind.PUBLIC, Role.SERVER: CallerKind.SERVER, Role.ADMIN: CallerKind.ADMIN}


async def get_service(request: Request) -> SuggestService:
    """Async, as every dependency that does no I/O: FastAPI runs a plain `def` dependency in a worker thread, a
    hand-off per request and dependency that cost the event loop more than the work itself."""
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise HTTPException(503, "the model is still loading")
    return service


def presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return request.headers.get("x-api-key") or None


def _count_request(request: Request, key: ApiKey) -> None:
    settings = request.app.state.settings
    limit = key.rate_limit_per_minute or settings.rate_limit_per_minute
    retry_after = request.app.state.rate_limiter.take(f"key:{key.id}", 1, limit)
    if retry_after is not None:
        raise HTTPException(
            429,
            f"rate limit of {limit} requests per minute reached for key '{key.name}'",
            headers={"Retry-After": str(int(retry_after))},
        )


def _authenticated(request: Request, secret: str) -> ApiKey:
    key = request.app.state.keys.authenticate(secret)
    if key is None:
        raise HTTPException(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    return key


def require(scope: Scope, query_key: bool = False) -> Callable[[Request], ApiKey | None]:
    """A dependency: the request's API key must exist and hold `scope`; each request counts against its limit.
    With authentication turned off (`DEFLECT_AUTH_ENABLED=false`), every request passes. `query_key`: the key may
    also come as `?key=` (for a vendor that calls a URL it cannot add headers to)."""

    def check(request: Request) -> ApiKey | None:
        settings = request.app.state.settings
        if not settings.auth_enabled:
            return None
        secret = presented_key(request) or (request.query_params.get("key") if query_key else None)
        if secret is None:
            raise HTTPException(
                401, "an API key is required (Authorization: Bearer <key>)", headers={"WWW-Authenticate": "Bearer"}
            )
        key = _authenticated(request, secret)
        if scope not in key.scopes:
            raise HTTPException(403, f"this {key.role.value} key may not use '{scope.value}'")
        _count_request(request, key)
        return key

    return check


def conversation_caller(scope: Scope, query_key: bool = False) -> Callable[[Request], Awaitable[Caller]]:
    """Like `require`, and names the caller as the conversation logic knows it: a public widget, a server
    integration or an admin (everyone, with authentication turned off). The hot routes' check runs on the event
    loop when the rate limits are counted in memory (a dictionary look-up and a file's mtime), and in a worker
    thread only when they are counted in Redis, which is a network round trip."""
    check_key = require(scope, query_key)

    def checked(request: Request) -> Caller:
        key = check_key(request)
        return LOCAL_CALLER if key is None else Caller(key.id, CALLER_KINDS[key.role])

    async def caller(request: Request) -> Caller:
        if isinstance(request.app.state.rate_limiter, MemoryRateLimiter):
            return checked(request)
        return await run_in_threadpool(checked, request)

    return caller


LOCAL_REVIEWER = ApiKey(id="local", name="local", role=Role.ADMIN, sha256="", prefix="", created_at=0.0)


def review_session_token(request: Request) -> review_session.SessionToken | None:
    """The session the review page's cookie carries, if it is signed and unexpired (signed-out is checked apart)."""
    cookie = request.cookies.get(review_session.COOKIE)
    return review_session.verify(request.app.state.session_secret, cookie) if cookie else None


def reviewer_key(request: Request) -> ApiKey:
    """A dependency for the review queue: a reviewer or admin key, presented as a bearer key or through the review
    page's session cookie (whose state-changing requests must carry the CSRF header). Widget keys get 403.
    With authentication turned off, everyone reviews as 'local'."""
    if not request.app.state.settings.auth_enabled:
        return LOCAL_REVIEWER
    secret = presented_key(request)
    key: ApiKey | None
    if secret is not None:
        key = _authenticated(request, secret)
    else:
        token = review_session_token(request)
        if token is not None and request.app.state.signed_out_sessions.is_signed_out(token):
            token = None
        key = request.app.state.keys.by_id(token.key_id) if token else None
        if key is None:
            raise HTTPException(401, "sign in with a reviewer or admin API key", headers={"WWW-Authenticate": "Bearer"})
        if request.method not in ("GET", "HEAD") and request.headers.get(review_session.CSRF_HEADER) != "1":
            raise HTTPException(
                403, f"requests from the review page must carry the {review_session.CSRF_HEADER} header"
            )
    ensure_can_review(key)
    _count_request(request, key)
    return key


def ensure_can_review(key: ApiKey) -> None:
    if Scope.REVIEW not in key.scopes:
        raise HTTPException(403, f"a {key.role.value} key may not open the review queue; use a reviewer or admin key")
