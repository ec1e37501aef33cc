"""Shadow mode: a candidate model + index scores live traffic beside the active pair without changing any answer.
Each stored suggestion's text goes to the candidate on a background thread, after the customer got their answer;
what the candidate would have decided is stored next to the suggestion (`shadow_predictions`), for
`deflect models shadow-report` and `GET /admin/models/shadow` to compare. When the candidate falls behind, messages
are dropped (and counted) rather than queued without bound."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from deflect.conversation.metrics import ServiceMetrics
from deflect.conversation.policy import DecisionPolicy, policy_for
from deflect.conversation.service import SuggestService
from deflect.conversation.shadow_feed import ShadowJob
from deflect.conversation.suggester import Suggester
from deflect.store.events import EventStore
from deflect.store.tables import ShadowPrediction

logger = logging.getLogger(__name__)


class ShadowScorer:
    def __init__(
        self,
        suggester: Suggester,
        policy: DecisionPolicy,
        events: EventStore,
        metrics: ServiceMetrics,
        has_answer: Callable[[str, str], bool],
        backlog: int = 1000,
    ):
        self.suggester = suggester
        self.policy = policy
        self.events = events
        self.metrics = metrics
        self.has_answer = has_answer  # (intent, locale) → whether a bot answer could be given
        self._jobs: queue.Queue[ShadowJob | None] = queue.Queue(maxsize=backlog)
        self._stopped = threading.Event()
        self._worker = threading.Thread(target=self._run, name="shadow-scorer", daemon=True)
        self._worker.start()

    @property
    def model_version(self) -> str:
        return self.suggester.model.version

    def submit(self, job: ShadowJob) -> None:
        if self._stopped.is_set():  # a request that picked this candidate just before it was stopped
            self.metrics.shadow.labels("dropped").inc()
            return
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            self.metrics.shadow.labels("dropped").inc()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                if self._stopped.is_set():
                    self.metrics.shadow.labels("dropped").inc()
                    continue
                self._score(job)
                self.metrics.shadow.labels("scored").inc()
            except Exception:  # a failing candidate must never touch live traffic; it is counted and logged
                logger.exception("shadow model %s failed on suggestion %s", self.model_version, job.suggestion_id)
                self.metrics.shadow.labels("failed").inc()
            finally:
                self._jobs.task_done()

    def _score(self, job: ShadowJob) -> None:
        analysis = self.suggester.analyse(job.text, job.locale)
        prediction = analysis.prediction
        outcome = self.policy.decide(
            prediction,
            analysis.intent_name,
            analysis.hits,
            job.signals,
            has_answer=self.has_answer(prediction.intent, analysis.locale),
        )
        with self.events.session() as session:
            session.add(
                ShadowPrediction(
                    suggestion_id=job.suggestion_id,
                    created_at=datetime.now(UTC),
                    model_version=self.model_version,
                    intent=prediction.intent,
                    confidence=prediction.confidence,
                    out_of_scope=prediction.out_of_scope,
                    decision=outcome.decision.value,
                    articles=[hit.article.id for hit in analysis.hits],
                )
            )

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every submitted message has been scored (tests, shutdown); False on timeout."""
        finished = threading.Event()

        def wait() -> None:
            self._jobs.join()
            finished.set()

        threading.Thread(target=wait, daemon=True).start()
        return finished.wait(timeout)

    def close(self) -> None:
        """Stop: the message being scored finishes, the backlog is dropped (and counted), not scored first, so
        stopping or replacing the candidate never waits on up to `backlog` messages."""
        self._stopped.set()
        self._jobs.put(None)  # behind the backlog, which the worker now drops without scoring
        self._worker.join(timeout=30)
        self.suggester.close()


def start_shadow(service: SuggestService, candidate: Suggester) -> None:
    """Score the service's live traffic with `candidate` too, without changing answers (replaces any earlier
    candidate)."""
    if service.events is None:
        raise RuntimeError("shadow mode stores its predictions in the event database, and none is configured")
    policy = policy_for(service.settings, candidate.model)
    previous = service.replace_shadow(
        ShadowScorer(candidate, policy, service.events, service.metrics, service.has_answer)
    )
    if previous is not None:
        previous.close()


def stop_shadow(service: SuggestService) -> bool:
    """Stop scoring with the candidate, if one is running; returns whether one was."""
    previous = service.replace_shadow(None)
    if previous is not None:
        previous.close()
    return previous is not None
