"""Clarifying questions in the chat widget, in headless Chromium against a real server on the demo model: options
as buttons announced by the log's live region, picked with the keyboard or the mouse, and typed replies that keep
working. The server asks about every in-scope message so the flow does not hang on one message's confidence.
Screenshots land in tests/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture(scope="module")
def store_url(
    demo_model: IntentModel, demo_index: ArticleIndex, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("widget-clarify")
    widget_key, _ = KeyStore(folder / "api_keys.json").create("shop-widget", Role.WIDGET)
    settings = Settings(
        api_keys_file=folder / "api_keys.json",
        database_url=f"sqlite:///{folder}/events.db",
        answers_overrides_file=folder / "answers.json",
        demo_widget_key=widget_key,
        clarify_margin=1.0,
        clarify_floor=0.0,
    )
    with serving(create_app(settings, Suggester(demo_model, demo_index, settings))) as base_url:
        yield base_url


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 780}, locale="ko-KR")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_korean_options_are_buttons_in_the_live_log_and_a_keyboard_pick_is_answered(page: Page, store_url: str) -> None:
    page.goto(store_url)
    page.get_by_role("button", name="문의하기").click()
    dialog = page.get_by_role("dialog", name="하늘마켓 고객센터")
    dialog.get_by_role("textbox", name="질문 입력").fill("반품 보냈는데 돈이 안 들어왔어요")
    dialog.get_by_role("textbox", name="질문 입력").press("Enter")

    options = dialog.get_by_role("group", name="어떤 내용을 도와드릴까요?")
    expect(options).to_be_visible(timeout=SERVER_DEADLINE_MS)
    expect(dialog.get_by_role("log")).to_contain_text("어떤 내용을 도와드릴까요?")
    expect(dialog.get_by_role("log")).to_have_attribute("aria-live", "polite")
    refund = options.get_by_role("button", name="이미 보낸 반품·취소의 환불 진행 상황")
    expect(refund).to_be_visible()
    expect(options.get_by_role("button", name="다른 문의예요")).to_be_visible()
    expect(options.get_by_role("button", name="상담원과 이야기할게요")).to_be_visible()
    screenshot(page, "widget_ko_clarify")

    refund.focus()
    with page.expect_response(lambda response: response.url.endswith("/v1/suggest")) as answered:
        page.keyboard.press("Enter")

    sent = answered.value.request.post_data_json
    assert sent["choice"]["intent"] == "refund_status" and sent["choice"]["kind"] == "intent"
    assert answered.value.json()["decision"] == "bot_answer" and answered.value.json()["reason_code"] == "chosen"
    expect(refund).to_have_attribute("aria-pressed", "true")
    expect(dialog.locator(".message.customer").last).to_contain_text("이미 보낸 반품·취소의 환불 진행 상황")
    expect(dialog.locator(".message.bot").last).to_contain_text("환불")
    screenshot(page, "widget_ko_clarify_chosen")


def test_english_something_else_then_a_typed_reply_reaches_a_person(page: Page, store_url: str) -> None:
    page.goto(f"{store_url}/?lang=en")
    page.get_by_role("button", name="Help", exact=True).click()
    dialog = page.get_by_role("dialog", name="Haneul Market Help")
    textbox = dialog.get_by_role("textbox", name="Your question")
    textbox.fill("I returned it but no money yet")
    textbox.press("Enter")
    first = dialog.get_by_role("group", name="Which of these do you mean?")
    expect(first).to_be_visible(timeout=SERVER_DEADLINE_MS)

    first.get_by_role("button", name="Something else").click()

    rephrase = dialog.get_by_role(
        "group", name="Sorry, I didn't quite get that. Could you tell me a little more about what you need?"
    )
    expect(rephrase).to_be_visible(timeout=SERVER_DEADLINE_MS)
    expect(rephrase.get_by_role("button")).to_have_text(["Talk to a person"])
    expect(first.get_by_role("button", name="Something else")).to_have_attribute("aria-disabled", "true")
    screenshot(page, "widget_en_clarify_rephrase")

    textbox.fill("I sent the item back and the refund hasn't arrived")
    textbox.press("Enter")

    summary = dialog.locator(".handoff")
    expect(summary).to_contain_text("What the agent will receive", timeout=SERVER_DEADLINE_MS)
    expect(rephrase.get_by_role("button", name="Talk to a person")).to_have_attribute("aria-disabled", "true")
    screenshot(page, "widget_en_clarify_handoff")
