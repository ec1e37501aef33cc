"""A clarifying question on the review page, in headless Chromium against a real server on the demo model: the item
shows the whole turn sequence with the question, its options and the one the customer picked, and the customer's
choice as a label, in English and in Korean. The server asks about every in-scope message so the flow does not hang
on one message's confidence. Screenshots land in tests/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import screenshot, serving
from playwright.sync_api import Browser, Page, expect

from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex

SERVER_DEADLINE_MS = 15_000
QUESTION_TEXT = "반품 보냈는데 돈이 안 들어왔어요"


@pytest.fixture(scope="module")
def site(
    demo_model: IntentModel, demo_index: ArticleIndex, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A server whose queue holds one question the customer answered by picking "refund status"."""
    folder: Path = tmp_path_factory.mktemp("review-clarify")
    settings = Settings(
        api_keys_file=folder / "api_keys.json",
        database_url=f"sqlite:///{folder}/events.db",
        answers_overrides_file=folder / "answers.json",
        clarify_margin=1.0,
        clarify_floor=0.0,
    )
    keys = KeyStore(settings.api_keys_file)
    widget_key, _ = keys.create("shop-widget", Role.WIDGET)
    reviewer_key, _ = keys.create("rita", Role.REVIEWER)
    with serving(create_app(settings, Suggester(demo_model, demo_index, settings))) as url:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {widget_key}"}, timeout=30) as widget:
            question = widget.post("/v1/suggest", json={"text": QUESTION_TEXT}).json()
            assert question["decision"] == "clarify"
            choice = {"suggestion_id": question["suggestion_id"], "intent": "refund_status"}
            answer = widget.post(
                "/v1/suggest",
                json={
                    "conversation_id": question["conversation_id"],
                    "conversation_token": question["conversation_token"],
                    "choice": choice,
                },
            ).json()
            assert answer["reason_code"] == "chosen"
        with httpx.Client(base_url=f"{url}/review/api", headers={"Authorization": f"Bearer {reviewer_key}"}) as api:
            items = api.get("/items", params={"status": "open"}).json()["items"]
        item = next(item for item in items if item["suggestion_id"] == question["suggestion_id"])
        yield {"url": url, "reviewer_key": reviewer_key, "item": item}


def _open_item(browser: Browser, site: dict[str, Any], locale: str, button: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(f"{site['url']}/review/login")
        page.locator("#login-key").fill(site["reviewer_key"])
        page.get_by_role("button", name=button).click()
        page.wait_for_url(f"{site['url']}/review", timeout=SERVER_DEADLINE_MS)
        page.goto(f"{site['url']}/review#/item/{site['item']['id']}")
        yield page
    finally:
        context.close()


@pytest.fixture()
def english_item(browser: Browser, site: dict[str, Any]) -> Iterator[Page]:
    yield from _open_item(browser, site, "en-US", "Sign in")


@pytest.fixture()
def korean_item(browser: Browser, site: dict[str, Any]) -> Iterator[Page]:
    yield from _open_item(browser, site, "ko-KR", "로그인")


def test_the_item_shows_the_question_its_options_and_the_customers_pick(english_item: Page) -> None:
    page = english_item
    question = page.get_by_role("group", name="Clarifying question")

    expect(question).to_be_visible(timeout=SERVER_DEADLINE_MS)
    expect(question).to_contain_text("어떤 내용을 도와드릴까요?")
    expect(question.locator(".option")).to_contain_text(["다른 문의예요", "상담원과 이야기할게요"])
    picked = question.locator(".option.picked")
    expect(picked).to_have_count(1)
    expect(picked).to_contain_text("이미 보낸 반품·취소의 환불 진행 상황")
    expect(picked).to_have_attribute("aria-current", "true")
    turns = page.locator(".conversation .turn")
    expect(turns).to_have_count(2)
    expect(turns.nth(0)).to_contain_text("Asked to clarify")
    expect(turns.nth(1)).to_contain_text("Customer chose")
    expect(page.locator(".history")).to_contain_text("Customer's choice")
    screenshot(page, "review_clarify_en")


def test_the_korean_page_names_the_steps_in_korean(korean_item: Page) -> None:
    page = korean_item
    question = page.get_by_role("group", name="되묻는 질문")

    expect(question).to_be_visible(timeout=SERVER_DEADLINE_MS)
    expect(question.locator(".option.picked")).to_contain_text("선택됨")
    expect(page.locator(".conversation .turn").nth(0)).to_contain_text("되묻기")
    expect(page.locator(".history")).to_contain_text("고객 선택")
    screenshot(page, "review_clarify_ko")
