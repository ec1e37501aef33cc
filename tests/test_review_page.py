"""The review page at `/review`: who may open it (no browser), then the page in headless Chromium against a real server
that serves the demo model: sign in, correct an item from the queue and find it in the training export, turn a group
of unmet needs into a new intent, and the Korean UI. Screenshots land in tests/screenshots/."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from live_server import screenshot, serving
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, Response, expect

from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role
from deflect.api.routes.review_pages import PAGES
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex
from deflect.store.reviewed import export_reviewed

SERVER_DEADLINE_MS = 15_000  # the longest a test waits for the API to answer through the page
ENTRY = re.compile(r'<script type="module" src="(/review/static/js/[\w-]+\.js)"></script>')
IMPORT = re.compile(r'^import [^"]+ from "\./([\w-]+\.js)";$', re.M)

# What customers of the demo store send: out of scope, unsure, or handed off, each lands in the review queue.
PIANOS = ["do you sell pianos", "피아노 파나요?", "do you sell grand pianos?", "피아노도 판매하시나요?"]
# The bot answers this with the size guide and the customer says it did not help: a reviewer corrects it.
TO_CORRECT = "the jacket is too small for me, can I get a bigger one instead"
CORRECT_TO = "exchange_request"
UNTRUSTED = '<img src=x onerror="window.injected=1"> can you tune my guitar'
OTHERS = ["상담원 연결해 주세요", "what's the weather like in Busan tomorrow?", "부산 내일 날씨 어때요?", UNTRUSTED]


def review_settings(folder: Path) -> Settings:
    """Settings that keep keys and events in `folder`, out of the repository's .deflect/."""
    return Settings(
        api_keys_file=folder / "api_keys.json",
        database_url=f"sqlite:///{folder}/events.db",
        answers_overrides_file=folder / "answers.json",
    )


# ---- who may open the page, without a browser ------------------------------------------------------------------


@pytest.fixture()
def keys_and_client(tmp_path: Path) -> tuple[dict[str, str], TestClient]:
    """The app without its lifespan (the sign-in and the page need no model), and a key of each role."""
    settings = review_settings(tmp_path)
    store = KeyStore(settings.api_keys_file)
    keys = {role.value: store.create(role.value, role)[0] for role in (Role.WIDGET, Role.REVIEWER, Role.ADMIN)}
    return keys, TestClient(create_app(settings))


def test_review_page_opens_for_reviewer_and_admin_keys_only(keys_and_client: tuple[dict[str, str], TestClient]) -> None:
    keys, client = keys_and_client

    anonymous = client.get("/review", follow_redirects=False)
    widget = client.get("/review", headers={"Authorization": f"Bearer {keys['widget']}"})
    reviewer = client.get("/review", headers={"Authorization": f"Bearer {keys['reviewer']}"})
    admin = client.get("/review", headers={"Authorization": f"Bearer {keys['admin']}"})

    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/review/login"
    assert widget.status_code == 403 and widget.json()["error"]["code"] == "forbidden"
    assert "review" in widget.json()["error"]["message"]
    for page in (reviewer, admin, client.get("/review/login")):
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        # No other site may frame the page (clickjacking a reviewer), and only this origin's scripts run on it.
        policy = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "style-src 'self'" in policy
        assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    for page in (reviewer, admin):
        assert '<script type="module" src="/review/static/js/main.js"></script>' in page.text


def test_signing_in_with_a_widget_key_is_refused_and_a_reviewer_key_gets_a_session_cookie(
    keys_and_client: tuple[dict[str, str], TestClient],
) -> None:
    keys, client = keys_and_client

    widget = client.post("/review/api/session", json={"key": keys["widget"]})
    assert widget.status_code == 403 and "set-cookie" not in widget.headers

    reviewer = client.post("/review/api/session", json={"key": keys["reviewer"]})
    assert reviewer.status_code == 200 and reviewer.json()["reviewer"] == "reviewer"
    cookie = reviewer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/review" in cookie
    assert keys["reviewer"] not in reviewer.headers["set-cookie"]  # the cookie names the key, never holds it
    assert client.get("/review").status_code == 200  # the cookie opens the page
    assert client.get("/review/api/me").json()["reviewer"] == "reviewer"


def module_graph(client: TestClient, html: str) -> dict[str, Any]:
    """The responses for every module a page runs, by URL: its entry script, then whatever each module imports, as
    the browser does."""
    entries = ENTRY.findall(html)
    assert len(entries) == 1 and "<script>" not in html  # one entry module, nothing inline
    modules: dict[str, Any] = {}
    waiting = entries
    while waiting:
        url = waiting.pop()
        if url in modules:
            continue
        module = modules[url] = client.get(url)
        assert module.status_code == 200, url
        imports = IMPORT.findall(module.text)
        # Only static relative imports, each on a line of its own: no bare names, no URLs, no import().
        assert len(imports) == len(re.findall(r"\bimport\b", module.text)), url
        waiting += [f"{url.rsplit('/', 1)[0]}/{name}" for name in imports]
    return modules


def test_sign_in_page_and_assets_are_served_and_the_script_never_writes_html(
    keys_and_client: tuple[dict[str, str], TestClient],
) -> None:
    keys, client = keys_and_client

    login = client.get("/review/login")
    review = client.get("/review", headers={"Authorization": f"Bearer {keys['reviewer']}"})
    modules = module_graph(client, login.text) | module_graph(client, review.text)
    style = client.get("/review/static/review.css")

    assert login.status_code == 200 and login.headers["cache-control"] == "no-store"
    assert 'id="login-form"' in login.text and 'type="password"' in login.text
    assert '<script type="module" src="/review/static/js/login.js"></script>' in login.text
    for url, module in modules.items():
        assert "javascript" in module.headers["content-type"], url  # browsers refuse modules of any other type
        assert module.headers["cache-control"] == "no-cache", url  # never a stale module linked to a fresh one
    assert {url.rsplit("/", 1)[1] for url in modules} == {path.name for path in (PAGES / "js").glob("*.js")}
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    source = "\n".join(module.text for module in modules.values())
    # Customer text is untrusted: data reaches the DOM through textContent and attributes only.
    assert "innerHTML" not in source and "outerHTML" not in source and "insertAdjacentHTML" not in source
    assert '"x-deflect-review"' in source and 'credentials: "same-origin"' in source
    assert "localStorage.setItem(LANGUAGE_KEY" in source and source.count("localStorage.setItem") == 1


# ---- the page in a browser -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    url: str
    app: FastAPI
    widget_key: str
    reviewer_key: str

    def api(self) -> httpx.Client:
        """The review API as the reviewer's bearer key sees it."""
        return httpx.Client(
            base_url=f"{self.url}/review/api", headers={"Authorization": f"Bearer {self.reviewer_key}"}, timeout=30
        )


@pytest.fixture(scope="module")
def site(demo_model: IntentModel, demo_index: ArticleIndex, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One real server for the browser tests, its queue filled by a widget sending real messages."""
    folder = tmp_path_factory.mktemp("review")
    settings = review_settings(folder)
    keys = KeyStore(settings.api_keys_file)
    widget_key, _ = keys.create("shop-widget", Role.WIDGET)
    reviewer_key, _ = keys.create("rita", Role.REVIEWER)
    app = create_app(settings, Suggester(demo_model, demo_index, settings))
    with serving(app) as url:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {widget_key}"}, timeout=30) as widget:
            for text in [*PIANOS, *OTHERS]:
                assert widget.post("/v1/suggest", json={"text": text}).status_code == 200
            answered = widget.post("/v1/suggest", json={"text": TO_CORRECT}).json()
            feedback = {
                "suggestion_id": answered["suggestion_id"],
                "feedback": "not_helpful",
                "conversation_token": answered["conversation_token"],
            }
            assert widget.post("/v1/feedback", json=feedback).status_code == 200
        yield Site(url, app, widget_key, reviewer_key)


def new_context(browser: Browser, locale: str = "en-US") -> BrowserContext:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale=locale)
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(SERVER_DEADLINE_MS)
    return context


def watch(page: Page) -> list[str]:
    """What would say the page's script did not load or broke: an uncaught error (a module that does not link is
    one), a static file that did not load, a console error. Chromium logs each 4xx answer as "Failed to load
    resource"; the API gives those by design (a widget key signing in), so they count only for static files."""
    problems: list[str] = []
    static = "/review/static/"

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console: {message.text}")

    def response(answer: Response) -> None:
        if static in answer.url and answer.status >= 400:
            problems.append(f"{answer.status}: {answer.url}")

    def failed(request: Request) -> None:
        if static in request.url:
            problems.append(f"failed: {request.url}")

    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", console)
    page.on("response", response)
    page.on("requestfailed", failed)
    return problems


def watched_page(browser: Browser, locale: str) -> Iterator[Page]:
    context = new_context(browser, locale=locale)
    try:
        page = context.new_page()
        problems = watch(page)
        yield page
        assert not problems, problems
    finally:
        context.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    yield from watched_page(browser, "en-US")


@pytest.fixture()
def korean_page(browser: Browser) -> Iterator[Page]:
    """A browser whose language is Korean, nothing chosen on the page yet."""
    yield from watched_page(browser, "ko-KR")


def sign_in(page: Page, site: Site, key: str, button: str = "Sign in") -> None:
    page.goto(f"{site.url}/review/login")
    page.locator("#login-key").fill(key)
    page.get_by_role("button", name=button).click()


def open_items(site: Site) -> list[dict[str, Any]]:
    with site.api() as api:
        return api.get("/items", params={"status": "open", "limit": 200}).json()["items"]


@pytest.mark.parametrize(
    "broken",
    [{"status": 404}, {"status": 200, "content_type": "text/javascript", "body": "export const nothing = 0;\n"}],
    ids=["missing", "without-its-exports"],
)
def test_a_module_that_does_not_load_or_link_is_caught(browser: Browser, site: Site, broken: dict[str, Any]) -> None:
    context = new_context(browser)
    try:
        page = context.new_page()
        problems = watch(page)
        page.route("**/review/static/js/dom.js", lambda route: route.fulfill(**broken))
        page.goto(f"{site.url}/review/login")
        expect(page.locator("#login-form")).to_be_visible()
        expect(page.locator("#lang-toggle")).to_have_text("")  # no module ran: the entry fills this button
        assert any("dom.js" in problem for problem in problems), problems
    finally:
        context.close()


def test_the_page_speaks_korean_and_lists_its_shortcuts(korean_page: Page, site: Site) -> None:
    page = korean_page
    page.goto(f"{site.url}/review/login")
    expect(page.get_by_role("heading", name="검토 화면 로그인")).to_be_visible()
    sign_in(page, site, site.reviewer_key, button="로그인")

    expect(page.get_by_role("heading", name="검토 대기열")).to_be_visible(timeout=SERVER_DEADLINE_MS)
    expect(page.locator("#queue-rows .badge").first).to_be_visible()
    expect(page.locator("#queue-rows")).to_contain_text("범위 밖")
    screenshot(page, "review_queue_ko")

    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="단축키")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("대기열로 돌아가기")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    page.get_by_role("button", name=re.compile("English")).click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()  # the choice is kept
    page.goto(f"{site.url}/review?lang=ko")
    expect(page.get_by_role("heading", name="검토 대기열")).to_be_visible()

    page.get_by_role("button", name="로그아웃").click()
    expect(page).to_have_url(re.compile(r"/review/login"))
    page.goto(f"{site.url}/review")
    expect(page).to_have_url(f"{site.url}/review/login")  # the session has ended


def test_reviewer_corrects_an_item_from_the_queue_and_it_reaches_the_training_export(
    page: Page, site: Site, tmp_path: Path
) -> None:
    queued = open_items(site)
    item = next(item for item in queued if item["text"] == TO_CORRECT)
    assert "negative_feedback" in item["reasons"] and item["intent"] != CORRECT_TO

    page.goto(f"{site.url}/review")
    expect(page).to_have_url(f"{site.url}/review/login")
    sign_in(page, site, site.widget_key)
    expect(page.get_by_role("alert")).to_have_text(re.compile("cannot open the review queue"))
    expect(page).to_have_url(f"{site.url}/review/login")

    sign_in(page, site, site.reviewer_key)
    expect(page).to_have_url(f"{site.url}/review", timeout=SERVER_DEADLINE_MS)
    rows = page.locator("#queue-rows tr")
    expect(rows).to_have_count(len(queued), timeout=SERVER_DEADLINE_MS)
    expect(page.locator("#reviewer")).to_contain_text("rita")
    expect(rows.first).to_have_attribute("aria-current", "true")
    untrusted = page.locator("#queue-rows a", has_text="<img src=x")
    expect(untrusted).to_have_count(1)  # shown as text, not run as HTML
    assert page.evaluate("window.injected") is None
    screenshot(page, "review_queue")

    page.get_by_label("Search messages").fill("too small for me")
    expect(rows).to_have_count(1, timeout=SERVER_DEADLINE_MS)
    page.keyboard.press("Escape")  # leaves the search box; shortcuts work again
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{site.url}/review#/item/{item['id']}")
    expect(page.get_by_role("heading", name=f"Item #{item['id']}")).to_be_visible()
    expect(page.locator(".conversation .turn.current")).to_contain_text(TO_CORRECT)
    screenshot(page, "review_item")

    page.keyboard.press("e")
    intent_list = page.get_by_label("Correct the intent to")
    expect(intent_list).to_be_focused()
    intent_list.select_option(CORRECT_TO)
    with page.expect_response(lambda response: "/label" in response.url) as labelled:
        intent_list.press("Enter")
    assert labelled.value.status == 200
    assert labelled.value.request.post_data_json == {"action": "correct", "intent": CORRECT_TO}
    assert labelled.value.request.headers["x-deflect-review"] == "1"
    expect(page.get_by_role("status")).to_contain_text("Corrected 1 item to Exchange an item")
    expect(page).to_have_url(re.compile(r"#/queue\?q="))
    expect(page.locator("#queue-empty")).to_be_visible()  # it left the open queue
    page.get_by_label("Search messages").fill("")
    expect(rows).to_have_count(len(queued) - 1, timeout=SERVER_DEADLINE_MS)
    expect(page.locator("#queue-rows")).not_to_contain_text(TO_CORRECT)

    export = export_reviewed(site.app.state.service.events, tmp_path / "export")

    with export.csv_path.open(encoding="utf-8", newline="") as handle:
        exported = {row["suggestion_id"]: row for row in csv.DictReader(handle)}
    row = exported[item["suggestion_id"]]
    assert (row["text"], row["label"], row["action"], row["reviewer"]) == (TO_CORRECT, CORRECT_TO, "correct", "rita")
    from datasets import load_from_disk  # slow to import; only this test reads the dataset

    dataset = load_from_disk(str(export.dataset_path))["train"]
    assert {"text": TO_CORRECT, "label": CORRECT_TO} in [{"text": r["text"], "label": r["label"]} for r in dataset]

    page.keyboard.type("ga")  # the search box still has the focus: typing there is no shortcut
    expect(page.get_by_label("Search messages")).to_have_value("ga")
    expect(page).to_have_url(re.compile(r"#/queue"))
    page.keyboard.press("Escape")
    page.keyboard.press("g")
    page.keyboard.press("a")
    expect(page).to_have_url(f"{site.url}/review#/analytics")
    expect(page.get_by_role("img", name=re.compile("^Messages per day"))).to_be_visible(timeout=SERVER_DEADLINE_MS)
    for chart in ("Handoffs by reason", "Top intents"):
        expect(page.get_by_role("img", name=re.compile(f"^{chart}"))).to_be_visible()
    expect(page.locator(".stat").first).to_contain_text("Deflection rate")
    screenshot(page, "review_analytics")

    page.keyboard.press("g")
    page.keyboard.press("u")
    expect(page.locator("article.cluster").first).to_be_visible(timeout=SERVER_DEADLINE_MS)
    screenshot(page, "review_unmet_needs")


def test_a_group_of_unmet_needs_becomes_a_new_intent_in_one_step(page: Page, site: Site) -> None:
    with site.api() as api:
        clusters = api.get("/unmet-needs").json()["clusters"]
    pianos = next(c for c in clusters if any("piano" in text or "피아노" in text for text in c["examples"]))
    bulk_requests: list[Any] = []
    page.on("request", lambda request: bulk_requests.append(request) if request.url.endswith("/bulk") else None)

    sign_in(page, site, site.reviewer_key)
    expect(page).to_have_url(f"{site.url}/review", timeout=SERVER_DEADLINE_MS)
    page.goto(f"{site.url}/review#/unmet")
    card = page.locator("article.cluster", has_text=pianos["examples"][0])
    expect(card).to_be_visible(timeout=SERVER_DEADLINE_MS)
    card.get_by_label("New intent name").fill("piano_sales")
    with page.expect_response(lambda response: response.url.endswith("/review/api/bulk")) as created:
        card.get_by_role("button", name="Create intent").click()

    assert created.value.status == 200
    assert created.value.request.post_data_json == {
        "action": "new_intent",
        "intent": "piano_sales",
        "item_ids": pianos["item_ids"],
    }
    expect(page.get_by_role("status")).to_contain_text("piano_sales")
    expect(card).to_have_count(0, timeout=SERVER_DEADLINE_MS)  # refreshed: its messages are labelled now
    assert len(bulk_requests) == 1
    with site.api() as api:
        for item_id in pianos["item_ids"]:
            detail = api.get(f"/items/{item_id}").json()
            assert detail["item"]["status"] == "done"
            assert (detail["labels"][0]["action"], detail["labels"][0]["intent"]) == ("new_intent", "piano_sales")
        assert "piano_sales" in api.get("/catalog").json()["proposed_intents"]


def test_keyboard_selects_and_claims_in_bulk_and_mine_shows_what_i_hold(page: Page, site: Site) -> None:
    sign_in(page, site, site.reviewer_key)
    rows = page.locator("#queue-rows tr")
    expect(rows.first).to_have_attribute("aria-current", "true", timeout=SERVER_DEADLINE_MS)
    first, second = (int(rows.nth(row).get_attribute("data-id") or 0) for row in (0, 1))

    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.get_by_role("region", name="Bulk actions")).to_contain_text("2 selected")
    with page.expect_response(lambda response: response.url.endswith("/review/api/bulk")) as claimed:
        page.keyboard.press("c")

    assert claimed.value.status == 200
    assert claimed.value.request.post_data_json == {"action": "claim", "item_ids": [first, second]}
    expect(page.get_by_role("status")).to_contain_text("Claimed 2 items")
    page.get_by_label("Claimed by me").check()
    expect(rows).to_have_count(2, timeout=SERVER_DEADLINE_MS)
    expect(page.locator("#queue-rows .status-claimed")).to_have_count(2)
    expect(page.locator("#queue-rows")).to_contain_text("by rita")
