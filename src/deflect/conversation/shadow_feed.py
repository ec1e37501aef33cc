"""What a shadow scorer (deflect.lifecycle.shadow) receives from each stored suggestion, and the one call it offers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from deflect.conversation.policy import ConversationSignals


@dataclass(frozen=True)
class ShadowJob:
    suggestion_id: str
    text: str
    locale: str | None
    signals: ConversationSignals


class ShadowSink(Protocol):
    @property
    def model_version(self) -> str: ...

    def submit(self, job: ShadowJob) -> None:
        """Queue the message for the candidate; never blocks the request and never raises."""
        ...

    def close(self) -> None: ...
