"""Articles as a CSV table: columns id, title, body, locale, url; optional group, intents ('|'-separated),
section, updated_at. A body may be Markdown or HTML."""

from __future__ import annotations

import csv
from pathlib import Path

from bs4 import BeautifulSoup

from deflect.core.errors import DataFormatError
from deflect.core.records import Article
from deflect.core.text import normalize_text
from deflect.ingest.article_fields import (
    ArticleCollection,
    SkippedArticle,
    article_url,
    normalize_locale,
    optional_text,
    parse_intents,
)
from deflect.ingest.files import text_lines
from deflect.ingest.html_pages import html_to_markdown

REQUIRED_COLUMNS = ("id", "title", "body", "locale", "url")


def _body_text(body: str) -> str:
    looks_like_html = "<" in body and BeautifulSoup(body, "html.parser").find() is not None
    return html_to_markdown(body) if looks_like_html else body.strip()


def read_article_table(path: Path) -> ArticleCollection:
    reader = csv.DictReader(text_lines(path))
    columns = reader.fieldnames or []
    missing_columns = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing_columns:
        raise DataFormatError(
            path, f"the header is missing {', '.join(missing_columns)} (found: {', '.join(columns) or 'none'})", line=1
        )
    collection = ArticleCollection()
    for row in reader:
        line = reader.line_num
        if None in row:
            raise DataFormatError(path, "more cells than header columns", line=line)
        empty = [name for name in ("id", "title", "locale", "url") if not (row.get(name) or "").strip()]
        if empty:
            raise DataFormatError(path, f"{', '.join(repr(name) for name in empty)} is missing or empty", line=line)
        if (row.get("draft") or "").strip().lower() in ("true", "1", "yes"):
            collection.add(SkippedArticle(f"{path}, line {line} (id {row['id'].strip()})", "draft"))
            continue
        body = _body_text(row.get("body") or "")
        if not body:
            collection.add(SkippedArticle(f"{path}, line {line} (id {row['id'].strip()})", "no body text"))
            continue
        collection.add(
            Article(
                id=row["id"].strip(),
                title=normalize_text(row["title"]),
                body=body,
                locale=normalize_locale(row["locale"]),
                url=article_url(path, row["url"], line=line),
                group_id=(row.get("group") or "").strip() or row["id"].strip(),
                intents=parse_intents(path, row.get("intents"), line=line),
                section=optional_text(row.get("section")),
                updated_at=optional_text(row.get("updated_at")),
            )
        )
    return collection
