"""The review page at `/review` (queue, item detail, analytics, unmet needs; Korean and English) and its sign-in
page. The page is static HTML + JavaScript calling `/review/api`; it opens only for a reviewer or admin key (a
session cookie, or a bearer key); a widget key gets 403."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from deflect.api.deps import reviewer_key
from deflect.api.page_headers import REVIEW_PAGE

PAGES = Path(__file__).resolve().parent.parent / "static" / "review"
router = APIRouter(tags=["review"], include_in_schema=False)


class ReviewAssets(StaticFiles):
    """The page's script is a graph of ES modules: each is revalidated (a 304 while unchanged) so that after an
    upgrade the browser never links a new module against an old one it kept by heuristic caching."""

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


assets = ReviewAssets(directory=PAGES)


@router.get("/review")
def review_page(request: Request) -> Response:
    try:
        reviewer_key(request)
    except HTTPException as error:
        if error.status_code == 401:
            query = f"?{request.url.query}" if request.url.query else ""  # keeps ?lang=
            return RedirectResponse(f"/review/login{query}", status_code=303)
        raise
    return FileResponse(PAGES / "index.html", headers=REVIEW_PAGE)


@router.get("/review/login")
def sign_in_page() -> Response:
    return FileResponse(PAGES / "login.html", headers=REVIEW_PAGE)
