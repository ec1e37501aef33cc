"""Markdown articles with YAML front matter (id, title, locale, url; optional group, intents, section, updated_at,
draft)."""

from __future__ import annotations

from pathlib import Path

import yaml

from deflect.core.errors import DataFormatError
from deflect.core.records import Article
from deflect.core.text import normalize_text
from deflect.ingest.article_fields import SkippedArticle, article_url, normalize_locale, optional_text, parse_intents
from deflect.ingest.files import read_text

_REQUIRED_FRONT_MATTER = ("id", "title", "locale", "url")


def read_markdown_article(path: Path) -> Article | SkippedArticle:
    lines = read_text(path).splitlines()
    if not lines or lines[0].strip() != "---":
        raise DataFormatError(path, "the file must start with YAML front matter between '---' lines", line=1)
    try:
        end = next(index for index in range(1, len(lines)) if lines[index].strip() == "---")
    except StopIteration:
        raise DataFormatError(path, "front matter is not closed by a '---' line", line=1) from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        raise DataFormatError(
            path, f"invalid YAML front matter ({getattr(error, 'problem', error)})", line=line
        ) from None
    if not isinstance(meta, dict):
        raise DataFormatError(path, "front matter must be a YAML mapping", line=2)
    missing = [key for key in _REQUIRED_FRONT_MATTER if not str(meta.get(key) or "").strip()]
    if missing:
        raise DataFormatError(path, f"front matter is missing {', '.join(missing)}", line=2)
    if meta.get("draft") is True:
        return SkippedArticle(str(path), "draft")
    body = "\n".join(lines[end + 1 :]).strip()
    if not body:
        return SkippedArticle(str(path), "no body text")
    return Article(
        id=str(meta["id"]).strip(),
        title=normalize_text(str(meta["title"])),
        body=body,
        locale=normalize_locale(meta["locale"]),
        url=article_url(path, meta["url"], line=2),
        group_id=str(meta.get("group") or meta["id"]).strip(),
        intents=parse_intents(path, meta.get("intents"), line=2),
        section=optional_text(meta.get("section")),
        updated_at=optional_text(meta.get("updated_at")),
    )
