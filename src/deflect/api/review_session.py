"""Sessions for the review page: a reviewer (or admin) signs in once with their API key and the browser keeps a
signed, HttpOnly, SameSite=Strict cookie naming the key — not the key itself. Revoking the key ends its sessions.
The signing secret lives in a file beside the key file, so every worker (and a restart) accepts the same cookies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

COOKIE = "deflect_review"
CSRF_HEADER = "x-deflect-review"  # a custom header, which another site's page cannot send without CORS consent


@dataclass(frozen=True)
class SessionToken:
    key_id: str
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
    token = SessionToken(key_id, int((now or time.time()) + lifetime_seconds))
    payload = f"{token.key_id}.{token.expires_at}"
    return f"{payload}.{_signature(secret, payload)}", token


def verify(secret: bytes, cookie: str, now: float | None = None) -> SessionToken | None:
    """The session a cookie carries, if its signature holds and it has not expired."""
    parts = cookie.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    key_id, expires_at, signature = parts
    if not hmac.compare_digest(signature, _signature(secret, f"{key_id}.{expires_at}")):
        return None
    token = SessionToken(key_id, int(expires_at))
    return token if token.expires_at > (now or time.time()) else None
