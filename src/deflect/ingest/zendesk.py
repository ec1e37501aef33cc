"""Zendesk Help Center articles export: the JSON of `GET /api/v2/help_center/articles`, `{"articles": [...]}`."""

from __future__ import annotations

import json
from pathlib import Path

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
from deflect.ingest.files import read_text
from deflect.ingest.html_pages import html_to_markdown

_REQUIRED = ("id", "title", "body", "html_url", "locale")


def read_zendesk_export(path: Path) -> ArticleCollection:
    """Each translation becomes an article `<id>-<locale>`; translations share the group `source_id` or `id`."""
    try:
        document = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise DataFormatError(path, f"invalid JSON ({error.msg})", line=error.lineno) from None
    if not isinstance(document, dict) or not isinstance(document.get("articles"), list):
        raise DataFormatError(path, "expected a JSON object with an 'articles' list (a Zendesk Help Center export)")
    collection = ArticleCollection()
    for index, item in enumerate(document["articles"]):
        record = f"articles[{index}]"
        if not isinstance(item, dict):
            raise DataFormatError(path, "each article must be a JSON object", record=record)
        missing = [key for key in _REQUIRED if item.get(key) is None or (key != "body" and item.get(key) == "")]
        if missing:
            raise DataFormatError(path, f"missing {', '.join(missing)}", record=record)
        where = f"{path}, {record} (id {item['id']})"
        if item.get("draft"):
            collection.add(SkippedArticle(where, "draft"))
            continue
        body = html_to_markdown(str(item["body"]))
        if not body:
            collection.add(SkippedArticle(where, "no text in the body"))
            continue
        locale = normalize_locale(item["locale"])
        collection.add(
            Article(
                id=f"{item['id']}-{locale}",
                title=normalize_text(str(item["title"])),
                body=body,
                locale=locale,
                url=article_url(path, item["html_url"], record=record),
                group_id=str(item.get("source_id") or item["id"]),
                intents=parse_intents(path, item.get("label_names"), record=record),
                section=optional_text(item.get("section_id")),
                updated_at=optional_text(item.get("updated_at")),
            )
        )
    return collection
