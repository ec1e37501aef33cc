"""The chat widget: `/widget.js` and the demo store page that embeds it, then the widget itself in headless Chromium,
typing into a real server that serves the demo model and index. Screenshots land in tests/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from live_server import screenshot, serving
from playwright.sync_api import Browser, Page, Request, expect

from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role
from deflect.cli.main import main
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex

SERVER_DEADLINE_MS = 15_000  # the longest a test waits for the API to answer through the widget
EVENTS_RECORDER = """
window.deflectEvents = [];
for (const name of ["deflect:feedback", "deflect:handoff"]) {
  window.addEventListener(name, (event) => window.deflectEvents.push({ name, detail: event.detail }));
}
"""
DELIVERY_ARTICLE_KO = "택배가 어디에 있는지 확인하고 싶어요"
PASSWORD_ARTICLE_EN = "I forgot my password"


def widget_settings(folder: Path, **overrides: Any) -> Settings:
    """Settings that keep keys and events in `folder`, out of the repository's .deflect/."""
    return Settings(
        api_keys_file=folder / "api_keys.json",
        database_url=f"sqlite:///{folder}/events.db",
        answers_overrides_file=folder / "answers.json",
        **overrides,
    )


def page_client(folder: Path, **overrides: Any) -> TestClient:
    """The app without its lifespan: the script and the store page need no model."""
    return TestClient(create_app(widget_settings(folder, **overrides)))


# ---- the script and the page, without a browser ----------------------------------------------------------------


def test_widget_script_is_cacheable_javascript_that_calls_the_typeahead_api(tmp_path: Path) -> None:
    client = page_client(tmp_path)

    script = client.get("/widget.js")

    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["cache-control"] == "public, max-age=300"
    assert "v1/suggest/typeahead" in script.text and "compositionend" in script.text
    unchanged = client.get("/widget.js", headers={"If-None-Match": script.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""


def test_demo_store_embeds_the_widget_with_one_script_tag_and_the_demo_key(tmp_path: Path) -> None:
    demo_key = "dfw_" + "a" * 43
    client = page_client(tmp_path, demo_widget_key=demo_key)

    korean, english = client.get("/"), client.get("/?lang=en")

    assert korean.headers["cache-control"] == "no-store"
    # Another site may not frame the store page, and only this origin's scripts run on it.
    policy = korean.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "object-src 'none'" in policy
    assert korean.headers["x-frame-options"] == "DENY" and korean.headers["x-content-type-options"] == "nosniff"
    assert '<html lang="ko">' in korean.text and "하늘마켓" in korean.text
    tags = re.findall(r"<script [^>]*></script>", korean.text)
    assert tags == [
        f'<script src="/widget.js" data-key="{demo_key}" data-title="하늘마켓 고객센터" '
        'data-primary-color="#1f6feb" data-position="right" async></script>'
    ]
    assert '<html lang="en">' in english.text and 'data-title="Haneul Market Help"' in english.text


def test_demo_store_without_a_key_explains_how_to_get_one_and_takes_one_from_the_address(tmp_path: Path) -> None:
    client = page_client(tmp_path)
    given_key = "dfw_" + "b" * 43

    without = client.get("/")
    given = client.get("/", params={"key": given_key})
    forged = client.get("/", params={"key": '"><script>alert(1)</script>'})

    assert without.status_code == 200 and "<script src=" not in without.text
    assert "deflect keys create --name shop-widget --role widget" in without.text
    assert f'data-key="{given_key}"' in given.text
    assert f'href="/?lang=en&amp;key={given_key}"' in given.text  # the language switch keeps the key
    assert "alert(1)" not in forged.text and "<script src=" not in forged.text


def test_demo_store_embeds_the_widget_without_a_key_when_keys_are_turned_off(tmp_path: Path) -> None:
    page = page_client(tmp_path, auth_enabled=False).get("/")

    assert re.findall(r"<script [^>]*></script>", page.text) == [
        '<script src="/widget.js" data-title="하늘마켓 고객센터" data-primary-color="#1f6feb" data-position="right" '
        "async></script>"
    ]


def test_serve_with_demo_keys_hands_the_widget_key_to_the_store_page_through_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEFLECT_API_KEYS_FILE", str(tmp_path / "api_keys.json"))
    for variable in ("DEFLECT_DEMO_WIDGET_KEY", "DEFLECT_MODEL_DIR", "DEFLECT_INDEX_DIR"):
        monkeypatch.setenv(variable, "")  # serve sets them for its workers: undone after the test
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: None)
    artifacts = ["--model", str(tmp_path / "model"), "--index", str(tmp_path / "index")]

    assert main(["serve", *artifacts, "--host", "127.0.0.1", "--port", "8123", "--demo-keys"]) == 0

    printed = capsys.readouterr().out
    match = re.search(r"widget API key: (dfw_\S+)", printed)
    assert match and "demo store with the chat widget: http://127.0.0.1:8123/" in printed
    worker_settings = widget_settings(tmp_path)  # read from the environment, as each worker does
    assert worker_settings.demo_widget_key == match.group(1)
    assert f'data-key="{match.group(1)}"' in TestClient(create_app(worker_settings)).get("/").text


# ---- the widget in a browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store_url(
    demo_model: IntentModel, demo_index: ArticleIndex, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One real server for all the browser tests: the demo store page with a fresh widget key."""
    folder = tmp_path_factory.mktemp("widget")
    widget_key, _ = KeyStore(folder / "api_keys.json").create("shop-widget", Role.WIDGET)
    settings = widget_settings(folder, demo_widget_key=widget_key)
    with serving(create_app(settings, Suggester(demo_model, demo_index, settings))) as base_url:
        yield base_url


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser session (no conversation yet) that records the widget's events; the page's Content Security
    Policy must not have blocked anything the widget does."""
    context = browser.new_context(viewport={"width": 1100, "height": 780}, locale="ko-KR")
    context.set_default_timeout(10_000)
    context.add_init_script(EVENTS_RECORDER)
    try:
        page = context.new_page()
        blocked: list[str] = []
        page.on(
            "console",
            lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None,
        )
        yield page
        assert not blocked, blocked
    finally:
        context.close()


def typeahead_requests(page: Page) -> list[str]:
    """The texts the widget asks typeahead suggestions for, in order, from now on."""
    texts: list[str] = []

    def record(request: Request) -> None:
        if request.url.endswith("/v1/suggest/typeahead"):
            texts.append(request.post_data_json["text"])

    page.on("request", record)
    return texts


def widget_event(page: Page, name: str) -> dict[str, Any]:
    page.wait_for_function(f"window.deflectEvents.some((event) => event.name === '{name}')")
    return next(event["detail"] for event in page.evaluate("window.deflectEvents") if event["name"] == name)


def test_korean_question_shows_the_delivery_article_as_you_type_and_takes_feedback(page: Page, store_url: str) -> None:
    typed = typeahead_requests(page)
    page.goto(store_url)
    page.get_by_role("button", name="문의하기").click()
    dialog = page.get_by_role("dialog", name="하늘마켓 고객센터")
    question = "택배가 어디에 있나요?"

    dialog.get_by_role("textbox", name="질문 입력").press_sequentially(question, delay=40)

    while_typing = dialog.locator(".typeahead")
    expect(while_typing.get_by_role("link", name=DELIVERY_ARTICLE_KO)).to_be_visible(timeout=SERVER_DEADLINE_MS)
    assert 1 <= len(typed) < len(question) / 2  # debounced: not a request per keystroke
    screenshot(page, "widget_ko_typeahead")

    dialog.get_by_role("textbox", name="질문 입력").press("Enter")
    card = dialog.locator(".log .card", has=page.get_by_role("link", name=DELIVERY_ARTICLE_KO))
    expect(card).to_be_visible(timeout=SERVER_DEADLINE_MS)
    expect(dialog.locator(".log")).to_contain_text("delivery-tracking")  # the bot's answer links the article
    with page.expect_response(lambda response: response.url.endswith("/v1/feedback")) as feedback:
        card.get_by_role("button", name="네").click()

    assert feedback.value.status == 200
    assert feedback.value.request.post_data_json["feedback"] == "helpful"
    expect(card.get_by_role("button", name="네")).to_have_attribute("aria-pressed", "true")
    expect(card).to_contain_text("알려 주셔서 감사합니다!")
    event = widget_event(page, "deflect:feedback")
    assert event["articleId"] == "delivery-tracking-ko" and event["feedback"] == "helpful"
    assert event["suggestionId"] == feedback.value.request.post_data_json["suggestion_id"]
    assert event["handoffNext"] is False
    screenshot(page, "widget_ko_feedback")


def test_english_article_rated_while_typing_sends_the_question_and_the_feedback(page: Page, store_url: str) -> None:
    page.goto(f"{store_url}/?lang=en")
    page.get_by_role("button", name="Help", exact=True).click()
    dialog = page.get_by_role("dialog", name="Haneul Market Help")

    dialog.get_by_role("textbox", name="Your question").press_sequentially("how do i reset my password", delay=30)

    card = dialog.locator(".typeahead .card", has=page.get_by_role("link", name=PASSWORD_ARTICLE_EN))
    expect(card).to_be_visible(timeout=SERVER_DEADLINE_MS)
    expect(card.get_by_role("group", name=f"Did this help? {PASSWORD_ARTICLE_EN}")).to_be_visible()
    screenshot(page, "widget_en_typeahead")
    with page.expect_response(lambda response: response.url.endswith("/v1/feedback")) as feedback:
        card.get_by_role("button", name="Yes").click()

    assert feedback.value.status == 200
    assert feedback.value.request.post_data_json["article_id"] == "password-reset-en"
    expect(dialog.locator(".message.customer")).to_contain_text("how do i reset my password")
    expect(dialog.locator(".log .card")).to_contain_text("Thanks for letting us know!")
    expect(dialog.locator(".typeahead")).to_be_hidden()
    assert widget_event(page, "deflect:feedback")["articleId"] == "password-reset-en"
    screenshot(page, "widget_en_feedback")


def test_half_composed_hangul_sends_no_typeahead_request_until_the_syllable_is_committed(
    page: Page, store_url: str
) -> None:
    typed = typeahead_requests(page)
    page.goto(store_url)
    page.get_by_role("button", name="문의하기").click()
    expect(page.get_by_role("textbox", name="질문 입력")).to_be_focused()
    ime = page.context.new_cdp_session(page)  # what a Korean IME sends, syllable by syllable

    for composed in ("ㅌ", "태", "택"):
        ime.send("Input.imeSetComposition", {"text": composed, "selectionStart": 1, "selectionEnd": 1})
    ime.send("Input.insertText", {"text": "택"})
    for composed in ("ㅂ", "배"):
        ime.send("Input.imeSetComposition", {"text": composed, "selectionStart": 1, "selectionEnd": 1})
    page.wait_for_timeout(800)  # three debounce periods with "배" still being composed
    assert typed == []

    with page.expect_request(lambda request: request.url.endswith("/v1/suggest/typeahead")):
        ime.send("Input.insertText", {"text": "배"})
    page.wait_for_timeout(400)
    assert typed == ["택배"]


def test_talk_to_a_person_shows_what_the_agent_receives_and_passes_the_package_to_the_page(
    page: Page, store_url: str
) -> None:
    page.goto(store_url)
    page.get_by_role("button", name="문의하기").click()
    dialog = page.get_by_role("dialog", name="하늘마켓 고객센터")
    dialog.get_by_role("textbox", name="질문 입력").fill("쿠폰 등록은 어디서 해요?")
    dialog.get_by_role("button", name="보내기").click()
    expect(dialog.locator(".log .card").first).to_be_visible(timeout=SERVER_DEADLINE_MS)

    dialog.get_by_role("button", name="상담원과 대화하기").click()

    summary = dialog.locator(".handoff")
    expect(summary).to_contain_text("상담원이 받게 될 내용", timeout=SERVER_DEADLINE_MS)
    expect(summary.locator("ol li")).to_have_text(["쿠폰 등록은 어디서 해요?", "상담원 연결해 주세요"])
    event = widget_event(page, "deflect:handoff")
    package = event["package"]
    assert event["reasonCode"] == "person_requested" and package["reason_code"] == "person_requested"
    assert package["conversation_id"] == event["conversationId"]
    assert [turn["text"] for turn in package["transcript"] if turn["role"] == "customer"] == [
        "쿠폰 등록은 어디서 해요?",
        "상담원 연결해 주세요",
    ]
    assert package["articles_shown"] and package["route"]["team"] == event["route"]["team"]
    topic, team, _priority = summary.locator("dd").all()
    expect(topic).to_have_text(package["intent_history"][0]["name"])  # the coupon question, not the request
    expect(team).to_have_text(package["route"]["team"])
    screenshot(page, "widget_ko_handoff")


def test_a_frustrated_customer_is_handed_off_without_asking(page: Page, store_url: str) -> None:
    page.goto(f"{store_url}/?lang=en")
    page.get_by_role("button", name="Help", exact=True).click()
    dialog = page.get_by_role("dialog", name="Haneul Market Help")
    message = "This is the third time I'm asking!!! Where is my parcel??? Totally useless"

    dialog.get_by_role("textbox", name="Your question").fill(message)
    dialog.get_by_role("textbox", name="Your question").press("Enter")

    summary = dialog.locator(".handoff")
    expect(summary).to_contain_text("What the agent will receive", timeout=SERVER_DEADLINE_MS)
    event = widget_event(page, "deflect:handoff")
    assert event["reasonCode"] == "frustrated" and event["package"]["frustration"]["frustrated"] is True
    expect(summary).to_contain_text(event["route"]["team"])
    screenshot(page, "widget_en_handoff")


def test_keyboard_alone_opens_the_panel_asks_for_a_person_and_closes_it_with_escape(page: Page, store_url: str) -> None:
    page.goto(store_url)
    launcher = page.get_by_role("button", name="문의하기")
    launcher.focus()

    page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog", name="하늘마켓 고객센터")
    expect(dialog).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(dialog.get_by_role("textbox", name="질문 입력")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="보내기")).to_be_focused()
    page.keyboard.press("Tab")
    person = dialog.get_by_role("button", name="상담원과 대화하기")
    expect(person).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog.locator(".handoff")).to_be_visible(timeout=SERVER_DEADLINE_MS)
    expect(person).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_api_errors_read_as_polite_messages_and_the_widget_keeps_working(page: Page, store_url: str) -> None:
    page.goto(f"{store_url}/?key=dfw_{'x' * 43}")  # well formed, but no key the server knows
    page.get_by_role("button", name="문의하기").click()
    page.get_by_role("textbox", name="질문 입력").fill("반품하고 싶어요")
    page.get_by_role("textbox", name="질문 입력").press("Enter")
    expect(page.locator(".message.error")).to_contain_text("채팅 설정에 문제가", timeout=SERVER_DEADLINE_MS)

    page.route("**/v1/suggest", lambda route: route.abort())
    page.goto(store_url)
    page.get_by_role("button", name="문의하기").click()
    page.get_by_role("textbox", name="질문 입력").fill("반품하고 싶어요")
    page.get_by_role("textbox", name="질문 입력").press("Enter")
    expect(page.locator(".message.error")).to_contain_text("지금은 연결할 수 없어요", timeout=SERVER_DEADLINE_MS)

    page.unroute("**/v1/suggest")
    page.get_by_role("textbox", name="질문 입력").fill("반품하고 싶어요")
    page.get_by_role("textbox", name="질문 입력").press("Enter")
    expect(page.locator(".log .card").first).to_be_visible(timeout=SERVER_DEADLINE_MS)
