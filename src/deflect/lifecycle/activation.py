"""Hot swap: load another model + index version in the background, warm it up, then swap it in atomically.
Requests keep being answered by the active pair the whole time; a failed load leaves it in place."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from deflect.conversation.service import SuggestService
from deflect.conversation.suggester import Suggester

logger = logging.getLogger(__name__)
WARM_UP_TEXTS = ("택배가 어디에 있나요?", "where is my order")
Status = Literal["idle", "loading", "active", "failed"]


def warm_up(suggester: Suggester) -> None:
    """The first requests on a model + index should not pay for lazy set-up (Kiwi's model, first batches)."""
    for text in WARM_UP_TEXTS:
        suggester.analyse(text)
    suggester.forget_cached()


class ActivationInProgress(RuntimeError):
    pass


@dataclass(frozen=True)
class ActivationState:
    status: Status
    model_dir: str | None = None
    index_dir: str | None = None
    error: str | None = None
    started_at: float | None = None
    finished_at: float | None = None


class ModelActivator:
    """Loads a pair in the background and hands it to `install`: by default the service serves it; the shadow
    activator hands it to shadow mode instead."""

    def __init__(self, service: SuggestService, install: Callable[[Suggester], None] | None = None):
        self.service = service
        self.install = install or service.activate
        self.state = ActivationState("idle")
        self._lock = threading.Lock()

    def start(
        self, model_dir: Path, index_dir: Path, on_finished: Callable[[ActivationState], None] | None = None
    ) -> ActivationState:
        """Start loading; `on_finished` hears the outcome (the audit trail records it)."""
        with self._lock:
            if self.state.status == "loading":
                raise ActivationInProgress(
                    f"already loading {self.state.model_dir} + {self.state.index_dir}; wait for it to finish"
                )
            self.state = ActivationState("loading", str(model_dir), str(index_dir), started_at=time.time())
        threading.Thread(
            target=self._load, args=(model_dir, index_dir, on_finished), name="model-activation", daemon=True
        ).start()
        return self.state

    def _load(self, model_dir: Path, index_dir: Path, on_finished: Callable[[ActivationState], None] | None) -> None:
        try:
            suggester = Suggester.load(self.service.settings, model_dir, index_dir)
            warm_up(suggester)
            self.install(suggester)
            outcome = ActivationState("active", str(model_dir), str(index_dir))
        except Exception as error:  # reported through the status route; the active pair stays
            logger.exception("activating %s + %s failed", model_dir, index_dir)
            outcome = ActivationState(
                "failed", str(model_dir), str(index_dir), error=f"{type(error).__name__}: {error}"
            )
        finished = ActivationState(
            outcome.status,
            outcome.model_dir,
            outcome.index_dir,
            outcome.error,
            started_at=self.state.started_at,
            finished_at=time.time(),
        )
        if on_finished is not None:  # before the status says so: whoever polls it finds the outcome recorded
            try:
                on_finished(finished)
            except Exception:  # the pair is active (or not) all the same
                logger.exception("recording the outcome of activating %s failed", model_dir)
        with self._lock:
            self.state = finished
