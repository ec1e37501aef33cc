"""Content gaps under `/review/api`, for the same reviewer and admin keys as the analytics: the articles that fail
the customers they are shown to, and the questions no article answered, over an analytics period; as JSON for the
review page and as CSV files for a spreadsheet (UTF-8 with a byte-order mark, so Excel reads Korean)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from deflect.api.embedding_cache import embeddings
from deflect.api.review_schemas import (
    ContentGapsOut,
    FailingArticleOut,
    QuestionGroupOut,
)
from deflect.api.routes.review import ERRORS, Key, Service
from deflect.conversation.service import SuggestService
from deflect.store.analytics import window_start
from deflect.store.content_gaps import (
    ArticleFailures,
    QuestionGroup,
    failing_articles,
    group_questions,
    unanswered_questions,
)
from deflect.store.events import EventStore

router = APIRouter(prefix="/review/api", tags=["review"], responses=ERRORS)
Days = Annotated[int, Query(ge=1, le=365, description="The period: the last N days, today included (UTC)")]
MinSeen = Annotated[
    int,
    Query(ge=1, le=100_000, description="Leave out articles seen fewer times (as a card or a clarifying option)"),
]
# Spreadsheets run a cell starting with one of these as a formula; customer text must never become one.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _events(service: SuggestService) -> EventStore:
    if service.events is None:
        raise HTTPException(503, "no event database is configured, so there are no content gaps to read")
    return service.events


def _article_out(failures: ArticleFailures, service: SuggestService) -> FailingArticleOut:
    """The article's figures, with its title, locale and url from the served help center."""
    out = FailingArticleOut.model_validate(failures, from_attributes=True)
    article = service.suggester.index.articles.get(failures.article_id)
    if article is None:
        return out
    return out.model_copy(update={"title": article.title, "locale": article.locale, "url": article.url})


def _question_groups(service: SuggestService, request: Request, days: int) -> tuple[int, list[QuestionGroup]]:
    questions = unanswered_questions(_events(service), days)
    if not questions:
        return 0, []
    vectors, reference = embeddings.vectors(service.suggester, [question.text for question in questions])
    distance = request.app.state.settings.unmet_needs_distance
    return len(questions), group_questions(questions, vectors, reference, distance)


@router.get("/content-gaps", response_model=ContentGapsOut)
def content_gaps(
    key: Key,
    service: Service,
    request: Request,
    days: Days = 30,
    min_seen: MinSeen = 5,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many articles and question groups")] = 20,
) -> ContentGapsOut:
    """The failing articles, highest failure score first (failures / times seen: a showing called not helpful or
    followed by a handoff or escalation in the same conversation, or a clarifying option turned down), and the
    messages handed off for `no_article` or `out_of_scope`, grouped by meaning, largest group first."""
    articles = failing_articles(_events(service), days, min_seen)
    considered, groups = _question_groups(service, request, days)
    return ContentGapsOut(
        since=articles.since,
        days=days,
        min_seen=min_seen,
        articles_seen=articles.articles_seen,
        failing_articles=[_article_out(article, service) for article in articles.articles[:limit]],
        questions_considered=considered,
        question_groups=[QuestionGroupOut.model_validate(group, from_attributes=True) for group in groups[:limit]],
    )


ARTICLE_COLUMNS = [
    "article_id",
    "title",
    "locale",
    "url",
    "seen",
    "shown",
    "not_helpful",
    "not_helpful_rate",
    "handoffs_after",
    "handoff_rate",
    "clarify_offered",
    "clarify_chosen",
    "clarify_other_option",
    "clarify_something_else",
    "clarify_person",
    "clarify_abandoned",
    "clarify_success_rate",
    "failures",
    "failure_score",
]
QUESTION_COLUMNS = [
    "group",
    "group_size",
    "group_terms",
    "suggestion_id",
    "conversation_id",
    "created_at",
    "locale",
    "reason_code",
    "predicted_intent",
    "confidence",
    "text",
]


@router.get(
    "/content-gaps.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per article, or per question"}},
)
def content_gaps_csv(
    key: Key,
    service: Service,
    request: Request,
    table: Annotated[
        Literal["articles", "questions"],
        Query(description="articles: every failing article past the floor; questions: every no-article message"),
    ],
    days: Days = 30,
    min_seen: MinSeen = 5,
) -> Response:
    """The content gaps as a CSV file: `table=articles`, one row per article past the floor in the order of the
    failure score; `table=questions`, one row per message with its group, groups largest first."""
    if table == "articles":
        articles = failing_articles(_events(service), days, min_seen)
        rows = [_article_row(_article_out(article, service)) for article in articles.articles]
        return _csv(ARTICLE_COLUMNS, rows, f"deflect-failing-articles-{articles.since:%Y%m%d}-{days}d.csv")
    _, groups = _question_groups(service, request, days)
    rows = [
        [
            group.id,
            group.size,
            " ".join(group.terms),
            member.suggestion_id,
            member.conversation_id,
            member.created_at.isoformat(),
            member.locale,
            member.reason_code,
            member.intent,
            round(member.confidence, 4),
            member.text,
        ]
        for group in groups
        for member in group.members
    ]
    since = window_start(days)
    return _csv(QUESTION_COLUMNS, rows, f"deflect-no-article-questions-{since:%Y%m%d}-{days}d.csv")


def _article_row(article: FailingArticleOut) -> list[object]:
    fields = article.model_dump(exclude={"clarify"})
    fields.update({f"clarify_{name}": count for name, count in article.clarify.model_dump().items()})
    return [fields[column] for column in ARTICLE_COLUMNS]


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _csv(columns: list[str], rows: list[list[object]], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return Response(
        content="\ufeff" + buffer.getvalue(),  # the byte-order mark tells Excel the file is UTF-8
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
