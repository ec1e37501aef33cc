"""Content gaps on live traffic: which articles fail the customers they are shown to (not helpful, a handoff after,
a clarifying option turned down) and which questions found no article, on SQLite and PostgreSQL; the JSON and CSV
API a support lead reads them through; and the analytics view showing both in Chromium (screenshots in
tests/screenshots/)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from live_server import screenshot, serving
from playwright.sync_api import Browser, Page, expect
from test_events import record
from test_review_page import review_settings

from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role
from deflect.conversation.suggester import Suggester
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex
from deflect.store.content_gaps import failing_articles, group_questions, unanswered_questions
from deflect.store.events import EventStore

NOW = datetime.now(UTC)


def minute(n: int) -> datetime:
    """A moment of this morning's traffic, in order."""
    return NOW - timedelta(hours=2) + timedelta(minutes=n)


def shown(suggestion_id: str, conversation_id: str, n: int, articles: list[str], **changes: Any):
    return record(suggestion_id, conversation_id, created_at=minute(n), articles=articles, **changes)


def handoff(suggestion_id: str, conversation_id: str, n: int, reason_code: str, **changes: Any):
    return record(
        suggestion_id, conversation_id, created_at=minute(n), decision="handoff", reason_code=reason_code, **changes
    )


# A clarifying question offering two intents, each with the article that answers it.
REFUND_OR_CANCEL = {
    "step": "choose",
    "question": "어떤 내용을 도와드릴까요?",
    "options": [
        {"kind": "intent", "label": "환불 진행 상황", "intent": "refund_status", "article_id": "refund-timeline-ko"},
        {"kind": "intent", "label": "주문 취소", "intent": "order_cancel", "article_id": "order-cancel-ko"},
        {"kind": "something_else", "label": "다른 문의예요", "intent": None, "article_id": None},
        {"kind": "person", "label": "상담원과 이야기할게요", "intent": None, "article_id": None},
    ],
}


def question(suggestion_id: str, conversation_id: str, n: int):
    return record(
        suggestion_id,
        conversation_id,
        created_at=minute(n),
        text="반품 보냈는데 돈이 안 들어왔어요",
        decision="clarify",
        reason_code="ambiguous",
        articles=[],
        clarification=REFUND_OR_CANCEL,
    )


def store_with(database_url: str, *records) -> EventStore:
    store = EventStore.open(database_url)
    for suggestion in records:
        store.record_suggestion(suggestion)
    return store


def test_failing_articles_count_unhelpful_showings_handoffs_after_and_turned_down_options(database_url: str) -> None:
    store = store_with(
        database_url,
        # c-1: the refund answer did not help, then the customer asked for a person
        shown("s-1", "c-1", 0, ["refund-timeline-ko", "refund-methods-ko"], text="환불 언제 돼요?"),
        handoff("s-2", "c-1", 1, "person_requested", articles=["contact-us-ko"]),  # a handoff's articles go unseen
        # c-2: none of the suggested articles helped (feedback on the whole suggestion)
        shown("s-3", "c-2", 2, ["refund-timeline-ko", "delivery-tracking-ko"], decision="suggest_articles"),
        shown("s-4", "c-3", 3, ["delivery-tracking-ko"], intent="delivery_status"),
        shown("s-5", "c-4", 4, ["delivery-tracking-ko"], intent="delivery_status"),  # escalated
        # c-5 … c-10: the same question, and what each customer did with it
        question("q-5", "c-5", 5),
        shown("a-5", "c-5", 6, ["refund-timeline-ko"], reason_code="chosen", chosen_from="q-5"),
        question("q-6", "c-6", 7),
        record(
            "a-6", "c-6", created_at=minute(8), decision="clarify", reason_code="not_among_options", chosen_from="q-6"
        ),
        question("q-7", "c-7", 9),  # no answer: the customer left
        question("q-8", "c-8", 10),
        shown("a-8", "c-8", 11, ["order-cancel-ko"], intent="order_cancel", decision="suggest_articles"),  # typed on
        question("q-9", "c-9", 12),
        handoff("a-9", "c-9", 13, "person_requested", chosen_from="q-9"),
        question("q-10", "c-10", 14),
        shown("a-10", "c-10", 15, ["order-cancel-ko"], intent="order_cancel", reason_code="chosen", chosen_from="q-10"),
        # before the period: not counted, nor its feedback
        record("s-old", "c-old", created_at=NOW - timedelta(days=40), articles=["refund-timeline-ko"]),
    )
    store.record_feedback("s-1", "not_helpful", article_id="refund-timeline-ko")
    store.record_feedback("s-3", "not_helpful")
    store.record_feedback("s-4", "helpful")
    store.record_feedback("s-5", "escalated")
    store.record_feedback("s-old", "not_helpful")

    report = failing_articles(store, days=7, min_seen=3, now=NOW)

    assert report.articles_seen == 4  # refund-methods-ko was seen once: under the floor
    assert [a.article_id for a in report.articles] == ["refund-timeline-ko", "delivery-tracking-ko", "order-cancel-ko"]
    refund, delivery, cancel = report.articles
    assert (refund.shown, refund.not_helpful, refund.handoffs_after, refund.failed_showings) == (3, 2, 1, 2)
    assert refund.not_helpful_rate == 0.6667 and refund.handoff_rate == 0.3333
    clarify = refund.clarify
    assert (clarify.offered, clarify.chosen, clarify.other_option) == (6, 1, 1)
    assert (clarify.something_else, clarify.person, clarify.abandoned) == (2, 1, 1)
    assert refund.clarify_success_rate == 0.1667
    # 2 failed showings + 4 options turned down, of 3 showings + 6 offers; ties with delivery, which failed less often
    assert (refund.failures, refund.seen, refund.failure_score) == (6, 9, 0.6667)
    assert (delivery.shown, delivery.not_helpful, delivery.handoffs_after, delivery.failure_score) == (3, 1, 1, 0.6667)
    assert delivery.clarify.offered == 0 and delivery.clarify_success_rate is None
    assert (cancel.shown, cancel.failed_showings, cancel.clarify.chosen, cancel.clarify.other_option) == (2, 0, 1, 1)
    assert cancel.failure_score == 0.5

    everything = failing_articles(store, days=7, min_seen=1, now=NOW)
    assert everything.articles[0].article_id == "refund-methods-ko" and everything.articles[0].failure_score == 1.0
    assert [a.article_id for a in failing_articles(store, days=7, min_seen=9, now=NOW).articles] == [
        "refund-timeline-ko"
    ]
    store.close()


def test_questions_with_no_article_are_the_no_article_and_out_of_scope_handoffs_grouped(database_url: str) -> None:
    store = store_with(
        database_url,
        handoff("p-1", "c-1", 0, "out_of_scope", text="피아노 파나요?", locale="ko", out_of_scope=True),
        handoff("p-2", "c-2", 1, "out_of_scope", text="do you sell pianos", out_of_scope=True),
        handoff(
            "n-1", "c-3", 2, "no_article", text="포인트 소멸 예정일이 언제예요?", locale="ko", intent="points_expiry"
        ),
        handoff("n-2", "c-4", 3, "no_article", text="포인트 유효기간 알려 주세요", locale="ko", intent="points_expiry"),
        handoff("n-3", "c-5", 4, "no_article", text="선물 포장 되나요?", locale="ko", intent="gift_wrap"),
        handoff("x-1", "c-6", 5, "person_requested", text="상담원 연결해 주세요", locale="ko"),
        record("x-2", "c-7", created_at=minute(6), decision="suggest_articles", reason_code="low_confidence"),
        record("x-old", "c-8", created_at=NOW - timedelta(days=40), decision="handoff", reason_code="no_article"),
    )

    questions = unanswered_questions(store, days=7, now=NOW)

    assert [q.suggestion_id for q in questions] == ["n-3", "n-2", "n-1", "p-2", "p-1"]  # newest first
    assert questions[0].text == "선물 포장 되나요?" and questions[0].reason_code == "no_article"
    # Vectors standing in for the encoder's: pianos, points and gift wrapping point three different ways.
    directions = {"n-3": [0, 0, 1], "n-2": [0, 1, 0.1], "n-1": [0, 1, -0.1], "p-2": [1, 0.1, 0], "p-1": [1, -0.1, 0]}
    vectors = np.array([directions[q.suggestion_id] for q in questions], dtype=np.float32)

    groups = group_questions(questions, vectors, np.zeros(3, dtype=np.float32), distance_threshold=0.5)

    # largest first, then by their first example
    assert [sorted(m.suggestion_id for m in group.members) for group in groups] == [
        ["p-1", "p-2"],
        ["n-1", "n-2"],
        ["n-3"],
    ]
    pianos, points, gift_wrap = groups
    assert points.reasons == {"no_article": 2} and points.intents == {"points_expiry": 2}
    assert pianos.reasons == {"out_of_scope": 2} and pianos.intents == {} and pianos.locales == {"ko": 1, "en": 1}
    assert set(pianos.examples) == {"피아노 파나요?", "do you sell pianos"}
    assert gift_wrap.size == 1 and gift_wrap.examples == ["선물 포장 되나요?"]  # one customer's gap is a gap too
    assert points.first_seen == minute(2) and points.last_seen == minute(3)
    store.close()


# --- through the API and the review page, on the real demo model -----------------------------------------------

ASKING = {"clarify_margin": 1.0, "clarify_floor": 0.0}  # every in-scope message with an article gets a question
UNSURE = "반품 보냈는데 돈이 안 들어왔어요"  # return or refund? The bot asks
PIANOS = ["피아노 파나요?", "do you sell pianos", "can I buy a grand piano"]
FORMULA = '=HYPERLINK("http://evil.example","피아노 파나요")'  # a customer's text Excel would run as a formula


@dataclass(frozen=True)
class Shop:
    url: str
    reviewer_key: str
    widget_key: str
    offered_article: str  # the article an option of the question links
    answer_articles: list[str]  # what the answer after choosing that option showed

    def client(self, key: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key or self.reviewer_key}"}, timeout=60
        )


def _suggest(widget: httpx.Client, **body: Any) -> dict[str, Any]:
    response = widget.post("/v1/suggest", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _continuing(earlier: dict[str, Any], **body: Any) -> dict[str, Any]:
    return {"conversation_id": earlier["conversation_id"], "conversation_token": earlier["conversation_token"], **body}


@pytest.fixture(scope="module")
def shop(demo_model: IntentModel, demo_index: ArticleIndex, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """A real server whose bot asks before it answers, after a morning of customers asked the same unclear thing: one
    chose an option with an article, found the answer unhelpful and asked for a person; one said "something else";
    one left. Three asked about pianos and one pasted a spreadsheet formula (all out of scope)."""
    settings = review_settings(tmp_path_factory.mktemp("content-gaps")).model_copy(update=ASKING)
    keys = KeyStore(settings.api_keys_file)
    widget_key, _ = keys.create("shop-widget", Role.WIDGET)
    reviewer_key, _ = keys.create("rita", Role.REVIEWER)
    with serving(create_app(settings, Suggester(demo_model, demo_index, settings))) as url:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {widget_key}"}, timeout=60) as widget:
            asked = _suggest(widget, text=UNSURE)
            assert asked["decision"] == "clarify"
            offered = next(o for o in asked["clarification"]["options"] if o["kind"] == "intent" and o["article_id"])
            choice = {"suggestion_id": asked["suggestion_id"], "kind": "intent", "intent": offered["intent"]}
            answer = _suggest(widget, **_continuing(asked, choice=choice))
            assert answer["decision"] == "bot_answer" and answer["articles"]
            feedback = {
                "suggestion_id": answer["suggestion_id"],
                "feedback": "not_helpful",
                "conversation_token": answer["conversation_token"],
            }
            assert widget.post("/v1/feedback", json=feedback).status_code == 200
            assert _suggest(widget, **_continuing(answer, text="상담원 연결해 주세요"))["decision"] == "handoff"

            other = _suggest(widget, text=UNSURE)
            _suggest(
                widget, **_continuing(other, choice={"suggestion_id": other["suggestion_id"], "kind": "something_else"})
            )
            _suggest(widget, text=UNSURE)  # and nothing more
            for text in [*PIANOS, FORMULA]:
                assert _suggest(widget, text=text)["reason_code"] == "out_of_scope"
        yield Shop(url, reviewer_key, widget_key, offered["article_id"], [a["id"] for a in answer["articles"]])


def test_the_content_gaps_api_ranks_failing_articles_and_groups_questions_with_no_article(shop: Shop) -> None:
    with shop.client() as reviewer:
        gaps = reviewer.get("/review/api/content-gaps", params={"days": 7, "min_seen": 1}).json()

    by_id = {article["article_id"]: article for article in gaps["failing_articles"]}
    article = by_id[shop.offered_article]
    assert article["title"] and article["locale"] == "ko" and article["url"].startswith("https://")
    assert article["clarify"] == {
        "offered": 3,
        "chosen": 1,
        "other_option": 0,
        "something_else": 1,
        "person": 0,
        "abandoned": 1,
    }
    # the answer after the choice showed it too: called not helpful, then the customer asked for a person
    assert shop.offered_article in shop.answer_articles
    assert (article["shown"], article["not_helpful"], article["handoffs_after"]) == (1, 1, 1)
    assert (article["failures"], article["seen"], article["failure_score"]) == (3, 4, 0.75)
    scores = [article["failure_score"] for article in gaps["failing_articles"]]
    assert scores == sorted(scores, reverse=True)

    assert gaps["questions_considered"] == len(PIANOS) + 1
    pianos = next(g for g in gaps["question_groups"] if any("piano" in t or "피아노" in t for t in g["examples"]))
    assert pianos["size"] >= len(PIANOS) and pianos["reasons"] == {"out_of_scope": pianos["size"]}
    assert set(pianos["locales"]) == {"ko", "en"}


def test_the_csv_export_opens_in_excel_and_bad_parameters_say_what_is_wrong(shop: Shop) -> None:
    with shop.client() as reviewer:
        articles = reviewer.get("/review/api/content-gaps.csv", params={"table": "articles", "min_seen": 1})
        questions = reviewer.get("/review/api/content-gaps.csv", params={"table": "questions", "days": 7})
        bad_table = reviewer.get("/review/api/content-gaps.csv", params={"table": "intents"})
        bad_days = reviewer.get("/review/api/content-gaps", params={"days": 0})
        bad_floor = reviewer.get("/review/api/content-gaps.csv", params={"table": "articles", "min_seen": "many"})
        missing_table = reviewer.get("/review/api/content-gaps.csv")
    with shop.client(shop.widget_key) as widget:
        refused = widget.get("/review/api/content-gaps.csv", params={"table": "articles"})

    assert articles.status_code == 200 and articles.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="deflect-failing-articles-\d{8}-30d\.csv"', articles.headers["content-disposition"]
    )
    assert articles.content.startswith(b"\xef\xbb\xbf")  # Excel reads a UTF-8 file as such only with the BOM
    rows = list(csv.DictReader(io.StringIO(articles.content.decode("utf-8-sig"))))
    article = next(row for row in rows if row["article_id"] == shop.offered_article)
    assert re.search("[가-힣]", article["title"])  # Korean survives the round trip
    assert (article["clarify_offered"], article["clarify_chosen"], article["failure_score"]) == ("3", "1", "0.75")

    assert questions.headers["content-disposition"].startswith('attachment; filename="deflect-no-article-questions-')
    lines = list(csv.DictReader(io.StringIO(questions.content.decode("utf-8-sig"))))
    assert {line["text"] for line in lines} == {*PIANOS, "'" + FORMULA}  # the formula stays text
    assert {line["reason_code"] for line in lines} == {"out_of_scope"} and all(line["group"] for line in lines)

    for bad, field in ((bad_table, "query.table"), (bad_days, "query.days"), (bad_floor, "query.min_seen")):
        assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == field, bad.text
    assert missing_table.status_code == 422 and "table" in missing_table.json()["error"]["message"]
    assert refused.status_code == 403


def test_the_analytics_view_shows_failing_articles_and_questions_with_no_article(browser: Browser, shop: Shop) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", accept_downloads=True)
    context.set_default_timeout(15_000)
    problems: list[str] = []
    try:
        page: Page = context.new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{shop.url}/review/login")
        page.locator("#login-key").fill(shop.reviewer_key)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{shop.url}/review")
        page.goto(f"{shop.url}/review#/analytics")

        page.get_by_label("Seen at least").select_option("1")
        failing = page.get_by_role("table", name="Failing articles")
        row = failing.locator(f'tr[data-article-id="{shop.offered_article}"]')
        expect(row).to_contain_text("1 / 3")  # chosen once of three offers
        expect(row).to_contain_text("75%")
        questions = page.get_by_role("region", name="Questions with no article")
        expect(questions.locator("article.question-group", has_text="피아노 파나요?")).to_be_visible()
        expect(questions).to_contain_text("Out of scope")
        assert page.evaluate("window.injected") is None
        screenshot(page, "review_content_gaps")

        with page.expect_download() as downloaded:
            page.get_by_role("link", name="Download the failing articles as CSV").click()
        assert downloaded.value.suggested_filename.startswith("deflect-failing-articles-")
        assert Path(downloaded.value.path()).read_bytes().startswith(b"\xef\xbb\xbfarticle_id,title,locale")

        page.evaluate("window.scrollTo(0, 0)")  # the download scrolled the page; the topbar sticks to the top
        page.get_by_role("button", name=re.compile("한국어")).click()
        expect(page.get_by_role("heading", name="콘텐츠 공백")).to_be_visible()
        expect(page.get_by_role("table", name="도움이 되지 못한 문서")).to_contain_text("실패 점수")
        screenshot(page, "review_content_gaps_ko")
    finally:
        context.close()
    assert not problems, problems
