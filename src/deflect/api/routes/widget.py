"""The embeddable chat widget (`GET /widget.js`) and the demo store page that embeds it (`GET /`)."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from deflect.api.page_headers import DEMO_PAGE

STATIC = Path(__file__).resolve().parents[1] / "static" / "widget"
WIDGET_KEY = re.compile(r"dfw_[A-Za-z0-9_-]{8,128}")
DEMO_TITLES = {"ko": "하늘마켓 고객센터", "en": "Haneul Market Help"}
DEMO_PRIMARY_COLOR = "#1f6feb"

router = APIRouter(tags=["widget"], include_in_schema=False)


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    etag: str


@cache
def static_file(name: str) -> StaticFile:
    body = (STATIC / name).read_bytes()
    return StaticFile(body, f'"{hashlib.sha256(body).hexdigest()[:16]}"')


@router.get("/widget.js")
def widget_script(request: Request) -> Response:
    """Embedded on other sites under an unversioned URL: browsers keep it a few minutes, then revalidate by ETag."""
    script = static_file("widget.js")
    headers = {
        "Cache-Control": "public, max-age=300",
        "ETag": script.etag,
        "X-Content-Type-Options": "nosniff",
        # Sites that isolate themselves (Cross-Origin-Embedder-Policy) may still load it from this origin.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if request.headers.get("if-none-match") == script.etag:
        return Response(status_code=304, headers=headers)
    return Response(script.body, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/", response_class=HTMLResponse)
def demo_store(
    request: Request,
    lang: Literal["ko", "en"] = "ko",
    key: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """하늘마켓, a small shop page with the widget's one script tag, as a customer's site would embed it; with
    `?key=dfw_…`, that widget key instead of the demo one, and `?lang=en` in English."""
    settings = request.app.state.settings
    given_key = key if key and WIDGET_KEY.fullmatch(key) else None
    widget_key = given_key or settings.demo_widget_key
    if widget_key or not settings.auth_enabled:
        widget = script_tag(widget_key, lang)
    else:
        widget = static_file("no_key.html").body.decode()
    page = (
        static_file("demo.html")
        .body.decode()
        .replace("{{lang}}", lang)
        .replace("{{other_lang_href}}", html.escape(other_language_href(lang, given_key)))
        .replace("{{widget}}", widget)
    )
    # The page carries a key: its headers keep it out of shared caches and browser history caches.
    return HTMLResponse(page, headers=DEMO_PAGE)


def script_tag(widget_key: str | None, lang: str) -> str:
    attributes = {
        "src": "/widget.js",
        "data-key": widget_key,
        "data-title": DEMO_TITLES[lang],
        "data-primary-color": DEMO_PRIMARY_COLOR,
        "data-position": "right",
    }
    rendered = " ".join(f'{name}="{html.escape(value)}"' for name, value in attributes.items() if value)
    return f"<script {rendered} async></script>"


def other_language_href(lang: str, key: str | None) -> str:
    other = "en" if lang == "ko" else "ko"
    return f"/?lang={other}" + (f"&key={key}" if key else "")
