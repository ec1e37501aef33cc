"""Sessions for the review page: a reviewer (or admin) signs in once with their API key and the browser keeps a
signed, HttpOnly, SameSite=Strict cookie naming the key and a session id — not the key itself. Revoking the key ends
its sessions; signing out ends that one session on the server too (its id is kept as signed out until the cookie
would have expired, in Redis when set, so that a copy of the cookie stops working everywhere). The signing secret
lives in a file beside the key file, so every worker (and a restart) accepts the same cookies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

COOKIE = "deflect_review"
CSRF_HEADER = "x-deflect-review"  # a custom header, which another site's page cannot send without CORS consent


@dataclass(frozen=True)
class SessionToken:
    key_id: str
    session_id: str
    expires_at: int


def load_secret(path: Path) -> bytes:
    """The signing secret; made (readable by the owner only) the first time."""
    try:
        return bytes.fromhex(path.read_text(encoding="utf-8").strip())
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_bytes(32)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(secret.hex(), encoding="utf-8")
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)  # fails if another worker made one meanwhile: then use theirs
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
        return bytes.fromhex(path.read_text(encoding="utf-8").strip())
    except ValueError:
        raise ValueError(f"{path}: not a session secret (expected hex); delete it to make a new one") from None


def _signature(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue(secret: bytes, key_id: str, lifetime_seconds: int, now: float | None = None) -> tuple[str, SessionToken]:
    token = SessionToken(key_id, secrets.token_hex(12), int((now or time.time()) + lifetime_seconds))
    payload = f"{token.key_id}.{token.session_id}.{token.expires_at}"
    return f"{payload}.{_signature(secret, payload)}", token


def verify(secret: bytes, cookie: str, now: float | None = None) -> SessionToken | None:
    """The session a cookie carries, if its signature holds and it has not expired (signed-out is checked apart)."""
    parts = cookie.split(".")
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    key_id, session_id, expires_at, signature = parts
    if not hmac.compare_digest(signature, _signature(secret, f"{key_id}.{session_id}.{expires_at}")):
        return None
    token = SessionToken(key_id, session_id, int(expires_at))
    return token if token.expires_at > (now or time.time()) else None


class SignedOutSessions(Protocol):
    def sign_out(self, token: SessionToken) -> None: ...

    def is_signed_out(self, token: SessionToken) -> bool: ...


class MemorySignedOutSessions:
    """For one process: what a single worker (or tests) needs."""

    def __init__(self) -> None:
        self._until: dict[str, int] = {}

    def sign_out(self, token: SessionToken) -> None:
        now = time.time()
        self._until = {session: until for session, until in self._until.items() if until > now}
        self._until[token.session_id] = token.expires_at

    def is_signed_out(self, token: SessionToken) -> bool:
        return token.session_id in self._until


class RedisSignedOutSessions:
    """Shared by every worker; each entry expires with the cookie it names."""

    def __init__(self, url: str, prefix: str = "deflect:"):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self.prefix = prefix

    def _key(self, token: SessionToken) -> str:
        return f"{self.prefix}review-session-signed-out:{token.session_id}"

    def sign_out(self, token: SessionToken) -> None:
        self.client.set(self._key(token), token.key_id, exat=max(token.expires_at, int(time.time()) + 1))

    def is_signed_out(self, token: SessionToken) -> bool:
        return bool(self.client.exists(self._key(token)))
