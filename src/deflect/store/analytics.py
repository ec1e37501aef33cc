"""The review page's analytics: how many conversations the bot deflected, how often and why it handed off, which
intents customers asked about and what they said of the answers, per day, from the stored events."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from deflect.core.records import OUT_OF_SCOPE
from deflect.core.vocabulary import Decision, FeedbackKind
from deflect.store.events import EventStore, as_utc
from deflect.store.tables import ReviewItem, StoredFeedback, StoredSuggestion


@dataclass(frozen=True)
class DayCounts:
    day: str
    suggestions: int
    bot_answers: int
    handoffs: int
    deflected_conversations: int
    conversations: int


@dataclass(frozen=True)
class Analytics:
    since: datetime
    suggestions: int
    conversations: int
    deflection_rate: float | None  # conversations that ended without a handoff or an escalation
    handoff_rate: float | None  # suggestions that were handoffs
    bot_answer_rate: float | None
    handoffs_by_reason: dict[str, int]
    top_intents: list[tuple[str, int]]
    feedback: dict[str, int]
    feedback_rates: dict[str, float]  # share of suggestions that got each feedback
    per_day: list[DayCounts]
    queue: dict[str, int] = field(default_factory=dict)  # open / claimed / done


# what the period's figures read of each suggestion (its text stays in the database)
SUGGESTION_FACTS = (
    StoredSuggestion.id,
    StoredSuggestion.conversation_id,
    StoredSuggestion.created_at,
    StoredSuggestion.decision,
    StoredSuggestion.reason_code,
    StoredSuggestion.intent,
)


def window_start(days: int, now: datetime | None = None) -> datetime:
    """The start of an analytics period of `days` days ending now: midnight UTC of its first day."""
    now = now or datetime.now(UTC)
    return (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)


def analytics(events: EventStore, days: int = 30, now: datetime | None = None) -> Analytics:
    """What the review page charts for the last `days` days: deflection, handoffs and their reasons, intents,
    feedback, per day; and the queue's size by status."""
    since = window_start(days, now)
    with events.session() as session:
        suggestions = session.execute(
            select(*SUGGESTION_FACTS, StoredSuggestion.out_of_scope).where(StoredSuggestion.created_at >= since)
        ).all()
        feedback_rows = session.execute(
            select(StoredFeedback.suggestion_id, StoredFeedback.conversation_id, StoredFeedback.feedback).where(
                StoredFeedback.created_at >= since
            )
        ).all()
        queue = dict(
            session.execute(select(ReviewItem.status, func.count()).group_by(ReviewItem.status)).tuples().all()
        )
    escalated = {row.conversation_id for row in feedback_rows if row.feedback == FeedbackKind.ESCALATED}
    handed_off = {row.conversation_id for row in suggestions if row.decision == Decision.HANDOFF} | escalated
    conversations = {row.conversation_id for row in suggestions}
    first_day: dict[str, str] = {}
    for row in sorted(suggestions, key=lambda r: as_utc(r.created_at)):
        first_day.setdefault(row.conversation_id, as_utc(row.created_at).date().isoformat())
    per_day = []
    for offset in range(days):
        day = (since + timedelta(days=offset)).date().isoformat()
        rows = [row for row in suggestions if as_utc(row.created_at).date().isoformat() == day]
        started = [c for c, first in first_day.items() if first == day]
        per_day.append(
            DayCounts(
                day=day,
                suggestions=len(rows),
                bot_answers=sum(row.decision == Decision.BOT_ANSWER for row in rows),
                handoffs=sum(row.decision == Decision.HANDOFF for row in rows),
                deflected_conversations=sum(c not in handed_off for c in started),
                conversations=len(started),
            )
        )
    total = len(suggestions)
    feedback = Counter(row.feedback for row in feedback_rows)
    intents = Counter(OUT_OF_SCOPE if row.out_of_scope else row.intent for row in suggestions)
    return Analytics(
        since=since,
        suggestions=total,
        conversations=len(conversations),
        deflection_rate=share(len(conversations - handed_off), len(conversations)),
        handoff_rate=share(sum(row.decision == Decision.HANDOFF for row in suggestions), total),
        bot_answer_rate=share(sum(row.decision == Decision.BOT_ANSWER for row in suggestions), total),
        handoffs_by_reason=dict(Counter(row.reason_code for row in suggestions if row.decision == Decision.HANDOFF)),
        top_intents=intents.most_common(10),
        feedback=dict(feedback),
        feedback_rates={name: round(count / total, 4) for name, count in feedback.items()} if total else {},
        per_day=per_day,
        queue={status: int(count) for status, count in queue.items()},
    )


def share(part: int, whole: int) -> float | None:
    """`part` as a share of `whole`, to 4 places; None of nothing."""
    return round(part / whole, 4) if whole else None
