"""Which article URLs may be shown to a customer: the widget and the bot's answers turn them into links."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Browsers drop tabs and newlines inside a URL and spaces and controls around it ("java\tscript:" runs as
# "javascript:"), so none is allowed anywhere.
_UNSAFE_CHARACTER = re.compile(r"[\x00-\x20\x7f\u00a0\u2028\u2029]")


def article_url_problem(url: str) -> str | None:
    """Why `url` cannot be an article's link, or None: an http(s) URL with a host, or a path on the customer's own
    site ('/help/refunds'). `javascript:`, `data:` and other schemes would run or render inside the page."""
    if _UNSAFE_CHARACTER.search(url):
        return "must not contain spaces or control characters"
    if url.startswith("/"):
        if url.startswith(("//", "/\\")):
            return "a path must start with one '/': '//…' names another host"
        return None
    try:
        parts = urlsplit(url)
    except ValueError as error:
        return f"is not a URL ({error})"
    if parts.scheme.lower() not in ("http", "https"):
        kind = f"a '{parts.scheme}:'" if parts.scheme else "a relative"
        return f"must be an http(s) URL or a path starting with '/', not {kind} link"
    if not parts.hostname:
        return "an http(s) URL must name a host"
    return None
