"""Content gaps on live traffic, from the stored events of an analytics period: the help-center articles that fail
the customers they are shown to, and the questions no article answered.

An article fails when it is shown (as a card beside a bot answer or suggested articles) and the customer says it
did not help, or the conversation is handed to a person after it; and when it is offered as an option of a
clarifying question and the customer turns it down ("something else", a person, or no answer at all). Questions
with no article are the messages handed off because no article matched (`no_article`) or because they matched no
topic the model knows (`out_of_scope`); retrieval scores are not stored, so a weak match that was still shown
counts against its article instead. They are grouped by meaning with the unmet-needs clustering."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from deflect.core.vocabulary import Decision, FeedbackKind, OptionKind, ReasonCode
from deflect.store.analytics import SUGGESTION_FACTS, share, window_start
from deflect.store.events import EventStore, as_utc
from deflect.store.tables import StoredFeedback, StoredSuggestion
from deflect.store.unmet_needs import cluster_needs

# The decisions whose articles the widget shows as cards; a handoff's or a question's articles are never seen.
SHOWING_DECISIONS = frozenset({Decision.BOT_ANSWER, Decision.SUGGEST_ARTICLES})
NO_ARTICLE_REASON_CODES = frozenset({ReasonCode.NO_ARTICLE, ReasonCode.OUT_OF_SCOPE})
# What the message after a clarifying question says when the customer chose none of the intents offered.
_SOMETHING_ELSE_CODES = frozenset({ReasonCode.NOT_AMONG_OPTIONS, ReasonCode.CLARIFY_FAILED})


@dataclass(frozen=True)
class ClarifyOutcomes:
    """What customers did with a clarifying question's option that linked the article."""

    offered: int = 0
    chosen: int = 0  # the option linking this article
    other_option: int = 0  # another intent of the same question: the model's confusion, not the article's failing
    something_else: int = 0  # "something else", or a new message instead of a choice
    person: int = 0  # "talk to a person"
    abandoned: int = 0  # no further message in the conversation

    @property
    def turned_down(self) -> int:
        return self.something_else + self.person + self.abandoned


@dataclass(frozen=True)
class ArticleFailures:
    article_id: str
    shown: int  # suggestions that showed it as a card
    not_helpful: int  # of those, the ones the customer called not helpful (this article, or the whole suggestion)
    handoffs_after: int  # of those, the ones followed by a handoff or an escalation in the same conversation
    failed_showings: int  # showings that were not helpful, or handed off after, or both
    clarify: ClarifyOutcomes

    @property
    def seen(self) -> int:
        """Times a customer saw the article: as a card or as a clarifying option."""
        return self.shown + self.clarify.offered

    @property
    def not_helpful_rate(self) -> float | None:
        return share(self.not_helpful, self.shown)

    @property
    def handoff_rate(self) -> float | None:
        return share(self.handoffs_after, self.shown)

    @property
    def clarify_success_rate(self) -> float | None:
        return share(self.clarify.chosen, self.clarify.offered)

    @property
    def failures(self) -> int:
        """Showings not helpful or handed off after (once even if both), and clarifying options turned down."""
        return self.failed_showings + self.clarify.turned_down

    @property
    def failure_score(self) -> float:
        """The share of the times it was seen that failed."""
        return share(self.failures, self.seen) or 0.0


@dataclass(frozen=True)
class FailingArticles:
    since: datetime
    min_seen: int
    articles_seen: int  # articles seen at all in the period, before the floor
    articles: list[ArticleFailures]  # seen at least `min_seen` times, highest failure score first


@dataclass(frozen=True)
class UnansweredQuestion:
    id: int  # its place among the questions read: what clustering names it by
    suggestion_id: str
    conversation_id: str
    created_at: datetime
    text: str  # PII-redacted, as stored
    locale: str
    intent: str  # what the model read it as
    confidence: float
    out_of_scope: bool
    reason_code: str  # no_article / out_of_scope


@dataclass(frozen=True)
class QuestionGroup:
    id: int
    members: list[UnansweredQuestion]  # the most central first
    examples: list[str]
    terms: list[str]
    locales: dict[str, int]
    reasons: dict[str, int]
    intents: dict[str, int]  # what the model read the no-article ones as, most frequent first

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def suggestion_ids(self) -> list[str]:
        return [member.suggestion_id for member in self.members]

    @property
    def first_seen(self) -> datetime:
        return min(as_utc(member.created_at) for member in self.members)

    @property
    def last_seen(self) -> datetime:
        return max(as_utc(member.created_at) for member in self.members)


def failing_articles(
    events: EventStore, days: int = 30, min_seen: int = 5, now: datetime | None = None
) -> FailingArticles:
    """Every article seen at least `min_seen` times in the last `days` days, highest failure score first (then the
    most failures, then the most seen)."""
    since = window_start(days, now)
    with events.session() as session:
        suggestions = session.execute(
            select(
                *SUGGESTION_FACTS,
                StoredSuggestion.articles,
                StoredSuggestion.clarification,
                StoredSuggestion.chosen_from,
            )
            .where(StoredSuggestion.created_at >= since)
            .order_by(StoredSuggestion.created_at, StoredSuggestion.id)
        ).all()
        feedback = session.execute(
            select(
                StoredFeedback.suggestion_id,
                StoredFeedback.conversation_id,
                StoredFeedback.created_at,
                StoredFeedback.feedback,
                StoredFeedback.article_id,
            ).where(StoredFeedback.created_at >= since)
        ).all()
    showings = _showings(suggestions, feedback)
    clarify = _clarify_outcomes(suggestions)
    seen = []
    for article_id in sorted(showings.keys() | clarify.keys()):
        counts = showings.get(article_id, Counter())
        seen.append(
            ArticleFailures(
                article_id,
                shown=counts["shown"],
                not_helpful=counts["not_helpful"],
                handoffs_after=counts["handoffs_after"],
                failed_showings=counts["failed_showings"],
                clarify=clarify.get(article_id, ClarifyOutcomes()),
            )
        )
    kept = [article for article in seen if article.seen >= min_seen]
    kept.sort(key=lambda a: (-a.failure_score, -a.failures, -a.seen, a.article_id))
    return FailingArticles(since=since, min_seen=min_seen, articles_seen=len(seen), articles=kept)


def _showings(suggestions: Sequence[Any], feedback: Sequence[Any]) -> dict[str, Counter[str]]:
    """Per article: how often it was shown, and how often that showing was called not helpful or handed off."""
    unhelpful = {(row.suggestion_id, row.article_id) for row in feedback if row.feedback == FeedbackKind.NOT_HELPFUL}
    handoff_times: dict[str, list[datetime]] = defaultdict(list)
    for row in suggestions:
        if row.decision == Decision.HANDOFF:
            handoff_times[row.conversation_id].append(as_utc(row.created_at))
    for row in feedback:
        if row.feedback == FeedbackKind.ESCALATED:
            handoff_times[row.conversation_id].append(as_utc(row.created_at))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in suggestions:
        if row.decision not in SHOWING_DECISIONS:
            continue
        shown_at = as_utc(row.created_at)
        handed_off = any(moment > shown_at for moment in handoff_times.get(row.conversation_id, ()))
        for article_id in dict.fromkeys(row.articles or ()):
            # feedback without an article is on the whole suggestion: none of its articles helped
            not_helpful = (row.id, article_id) in unhelpful or (row.id, None) in unhelpful
            count = counts[article_id]
            count["shown"] += 1
            count["not_helpful"] += not_helpful
            count["handoffs_after"] += handed_off
            count["failed_showings"] += not_helpful or handed_off
    return counts


def _clarify_outcomes(suggestions: Sequence[Any]) -> dict[str, ClarifyOutcomes]:
    """Per article linked to an intent option of a clarifying question: what the customer's next message did."""
    next_message: dict[str, Any] = {}
    latest: dict[str, Any] = {}
    for row in suggestions:  # oldest first
        previous = latest.get(row.conversation_id)
        if previous is not None:
            next_message[previous.id] = row
        latest[row.conversation_id] = row
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for question in suggestions:
        if question.decision != Decision.CLARIFY or not question.clarification:
            continue
        answer = next_message.get(question.id)
        for option in question.clarification.get("options", []):
            article_id = option.get("article_id")
            if option.get("kind") != OptionKind.INTENT or not article_id:
                continue
            count = counts[article_id]
            count["offered"] += 1
            count[_what_became_of(option.get("intent"), question.id, answer)] += 1
    return {article_id: ClarifyOutcomes(**count) for article_id, count in counts.items()}


def _what_became_of(intent: str | None, question_id: str, answer: Any) -> str:
    """The ClarifyOutcomes field an intent option of a question falls in, given the message after the question."""
    if answer is None:
        return "abandoned"
    if answer.chosen_from != question_id or answer.reason_code in _SOMETHING_ELSE_CODES:
        return "something_else"
    if answer.reason_code == ReasonCode.PERSON_REQUESTED:
        return "person"
    return "chosen" if answer.intent == intent else "other_option"


def unanswered_questions(
    events: EventStore, days: int = 30, now: datetime | None = None, limit: int = 2000
) -> list[UnansweredQuestion]:
    """The newest `limit` messages of the last `days` days handed off because no article matched or no known topic
    did."""
    since = window_start(days, now)
    with events.session() as session:
        rows = session.execute(
            select(
                StoredSuggestion.id.label("suggestion_id"),
                StoredSuggestion.conversation_id,
                StoredSuggestion.created_at,
                StoredSuggestion.text,
                StoredSuggestion.locale,
                StoredSuggestion.intent,
                StoredSuggestion.confidence,
                StoredSuggestion.out_of_scope,
                StoredSuggestion.reason_code,
            )
            .where(StoredSuggestion.created_at >= since)
            .where(StoredSuggestion.decision == Decision.HANDOFF.value)
            .where(StoredSuggestion.reason_code.in_([code.value for code in NO_ARTICLE_REASON_CODES]))
            .order_by(StoredSuggestion.created_at.desc(), StoredSuggestion.id)
            .limit(limit)
        ).all()
    return [
        UnansweredQuestion(id=position, **{**row._asdict(), "created_at": as_utc(row.created_at)})
        for position, row in enumerate(rows)
    ]


def group_questions(
    questions: Sequence[UnansweredQuestion],
    vectors: np.ndarray,
    reference: np.ndarray,
    distance_threshold: float,
    examples: int = 3,
) -> list[QuestionGroup]:
    """The questions grouped by meaning (as the unmet-needs view groups the queue), largest group first; a question
    like no other is a group of one, since one customer's unanswered question is a gap too."""
    clusters = cluster_needs(questions, vectors, reference, distance_threshold, min_size=1, examples=examples)
    by_id = {question.id: question for question in questions}
    groups = []
    for cluster in clusters:
        members = [by_id[question_id] for question_id in cluster.item_ids]
        read_as = Counter(member.intent for member in members if member.reason_code == ReasonCode.NO_ARTICLE)
        groups.append(
            QuestionGroup(
                id=cluster.id,
                members=members,
                examples=cluster.examples,
                terms=cluster.terms,
                locales=cluster.locales,
                reasons=dict(Counter(member.reason_code for member in members)),
                intents=dict(read_as.most_common()),
            )
        )
    return groups
