"""API keys with scopes, stored hashed.

Widget keys (embedded in a public web page) may only suggest, typeahead, send feedback and read the handoff
package of a conversation they hold the token of; server keys (one backend integration) have the same scopes but may
name their own conversations and send agent and bot turns; reviewer keys belong to people on the support team and
open the review queue; admin keys may do everything. A key is shown once, when it is created; the key file keeps its
SHA-256 (keys are 32 random bytes, so a fast hash is as good as a slow one) and a short prefix to tell keys apart."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from deflect.core.atomic import write_json_atomic


class Scope(StrEnum):
    SUGGEST = "suggest"
    TYPEAHEAD = "typeahead"
    FEEDBACK = "feedback"
    HANDOFF = "handoff"
    REVIEW = "review"
    ADMIN = "admin"


class Role(StrEnum):
    WIDGET = "widget"
    SERVER = "server"
    REVIEWER = "reviewer"
    ADMIN = "admin"


CONVERSATION_SCOPES = frozenset({Scope.SUGGEST, Scope.TYPEAHEAD, Scope.FEEDBACK, Scope.HANDOFF})
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.WIDGET: CONVERSATION_SCOPES,
    Role.SERVER: CONVERSATION_SCOPES,
    Role.REVIEWER: frozenset({Scope.REVIEW}),
    Role.ADMIN: frozenset(Scope),
}
KEY_PREFIX = {Role.WIDGET: "dfw_", Role.SERVER: "dfs_", Role.REVIEWER: "dfr_", Role.ADMIN: "dfa_"}


class KeyStoreError(ValueError):
    pass


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    role: Role
    sha256: str
    prefix: str  # the first characters of the key, to recognise it in logs and listings
    created_at: float
    rate_limit_per_minute: int | None = None  # None: the service default

    @property
    def scopes(self) -> frozenset[Scope]:
        return ROLE_SCOPES[self.role]


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyStore:
    """A JSON file of hashed keys; reread when it changes on disk, so keys created by the CLI work at once."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._keys: dict[str, ApiKey] = {}
        self._loaded_mtime: float | None = None

    def _load(self) -> dict[str, ApiKey]:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return {}
        if mtime != self._loaded_mtime:
            try:
                rows = json.loads(self.path.read_text(encoding="utf-8"))["keys"]
                keys = [ApiKey(**{**row, "role": Role(row["role"])}) for row in rows]
            except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
                raise KeyStoreError(f"{self.path}: not a key file ({type(error).__name__}: {error})") from None
            self._keys = {key.sha256: key for key in keys}
            self._loaded_mtime = mtime
        return self._keys

    def records(self) -> list[ApiKey]:
        with self._lock:
            return sorted(self._load().values(), key=lambda key: key.created_at)

    def authenticate(self, presented: str) -> ApiKey | None:
        digest = _digest(presented)
        with self._lock:
            for stored, key in self._load().items():
                if hmac.compare_digest(stored, digest):
                    return key
        return None

    def by_id(self, key_id: str) -> ApiKey | None:
        with self._lock:
            return next((key for key in self._load().values() if key.id == key_id), None)

    def create(self, name: str, role: Role, rate_limit_per_minute: int | None = None) -> tuple[str, ApiKey]:
        """A new key: the secret (shown once) and its stored record."""
        secret = KEY_PREFIX[role] + secrets.token_urlsafe(32)
        key = ApiKey(
            id=secrets.token_hex(6),
            name=name,
            role=role,
            sha256=_digest(secret),
            prefix=secret[:10],
            created_at=time.time(),
            rate_limit_per_minute=rate_limit_per_minute,
        )
        with self._lock:
            self._write([*self._load().values(), key])
        return secret, key

    def revoke(self, name_or_id: str) -> int:
        with self._lock:
            keys = list(self._load().values())
            kept = [key for key in keys if name_or_id not in (key.id, key.name)]
            if len(kept) != len(keys):
                self._write(kept)
            return len(keys) - len(kept)

    def _write(self, keys: list[ApiKey]) -> None:
        rows = [{**asdict(key), "role": key.role.value} for key in keys]
        write_json_atomic(self.path, {"keys": rows}, mode=0o600)
        self._keys = {key.sha256: key for key in keys}
        self._loaded_mtime = self.path.stat().st_mtime
