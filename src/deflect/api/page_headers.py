"""Response headers for the HTML pages the server itself renders (the review page, its sign-in page and the demo
store): a Content Security Policy that allows only this origin's scripts and no framing by another site, and the
headers older browsers read for the same. The widget script is embedded by other sites and is not a page."""

from __future__ import annotations

_COMMON_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
_PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# The review page styles itself from one stylesheet; its scripts set styles through the DOM, which CSP allows.
REVIEW_PAGE = {"Content-Security-Policy": "; ".join((*_COMMON_POLICY, "style-src 'self'")), **_PAGE_HEADERS}
# The demo store is a shop page with inline styles, as a customer's page would be; its scripts stay locked down.
DEMO_PAGE = {
    "Content-Security-Policy": "; ".join((*_COMMON_POLICY, "style-src 'self' 'unsafe-inline'")),
    **_PAGE_HEADERS,
}
