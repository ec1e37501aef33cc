"""The review page at `/review` (queue, item detail, analytics, unmet needs; Korean and English) and its sign-in
page. The page is static HTML + JavaScript calling `/review/api`; it opens only for a reviewer or admin key (a
session cookie, or a bearer key); a widget key gets 403."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from deflect.api.deps import reviewer_key

PAGES = Path(__file__).resolve().parent.parent / "static" / "review"
router = APIRouter(tags=["review"], include_in_schema=False)
assets = StaticFiles(directory=PAGES)

NO_STORE = {"Cache-Control": "no-store"}


@router.get("/review")
def review_page(request: Request) -> Response:
    try:
        reviewer_key(request)
    except HTTPException as error:
        if error.status_code == 401:
            query = f"?{request.url.query}" if request.url.query else ""  # keeps ?lang=
            return RedirectResponse(f"/review/login{query}", status_code=303)
        raise
    return FileResponse(PAGES / "index.html", headers=NO_STORE)


@router.get("/review/login")
def sign_in_page() -> Response:
    return FileResponse(PAGES / "login.html", headers=NO_STORE)
