"""Who may continue, rate and read a conversation.

A widget key sits in a public page, so everybody who visits the site holds it: it proves nothing about which
customer is asking. Conversations a widget starts are therefore named by the server, and continuing one (a next
message, feedback, its handoff package) needs the conversation's token — an HMAC of the key and the conversation id,
issued with the first suggestion and kept by the widget in the customer's browser. A server key belongs to one
backend: it may name its own conversations, send any kind of earlier turn, and reach the conversations it started
without a token. Admin keys reach every conversation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from deflect.conversation.results import Turn
from deflect.conversation.state import Conversation
from deflect.core.vocabulary import TurnRole


class CallerKind(StrEnum):
    PUBLIC = "public"  # a widget key: shared by every visitor of a site
    SERVER = "server"  # one backend integration
    ADMIN = "admin"


@dataclass(frozen=True)
class Caller:
    key_id: str
    kind: CallerKind

    @property
    def names_conversations(self) -> bool:
        return self.kind is not CallerKind.PUBLIC


LOCAL_CALLER = Caller("local", CallerKind.ADMIN)  # authentication turned off


class ConversationForbidden(PermissionError):
    """The caller may not do this to this conversation (the API answers 403)."""


class ConversationTokens:
    """Signs conversation ids for the key that started them; every worker sharing the secret accepts the tokens."""

    def __init__(self, secret: bytes):
        self._key = hmac.new(secret, b"deflect conversation tokens", hashlib.sha256).digest()

    @classmethod
    def random(cls) -> ConversationTokens:
        return cls(secrets.token_bytes(32))

    def issue(self, key_id: str, conversation_id: str) -> str:
        digest = hmac.new(self._key, f"{key_id}\0{conversation_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def holds(self, token: str | None, key_id: str, conversation_id: str) -> bool:
        return token is not None and hmac.compare_digest(token, self.issue(key_id, conversation_id))


TOKEN_NEEDED = (
    "a widget key continues a conversation only with the conversation_token issued with it; to name conversations "
    "yourself, call from your server with a server key"
)


def check_access(
    caller: Caller,
    conversation_id: str,
    conversation: Conversation | None,
    token: str | None,
    tokens: ConversationTokens,
) -> None:
    """Raises ConversationForbidden unless `caller` may continue or read this conversation (None: not in the live
    state — new, or expired)."""
    if caller.kind is CallerKind.ADMIN:
        return
    owner = conversation.owner if conversation is not None else None
    if owner is not None and owner != caller.key_id:
        raise ConversationForbidden(f"conversation '{conversation_id}' belongs to another key")
    if tokens.holds(token, caller.key_id, conversation_id):
        return
    if caller.kind is CallerKind.PUBLIC:
        raise ConversationForbidden(TOKEN_NEEDED)
    if conversation is not None and owner is None:  # state from before conversations had owners
        raise ConversationForbidden(f"conversation '{conversation_id}' belongs to another key")


def check_history(caller: Caller, history: Sequence[Turn]) -> None:
    """A widget may tell of the customer's own earlier messages, never of what an agent or the bot said."""
    if caller.kind is CallerKind.PUBLIC and any(turn.role != TurnRole.CUSTOMER for turn in history):
        raise ConversationForbidden(
            "a widget key may send only the customer's own turns in history; agent and bot turns need a server key"
        )
