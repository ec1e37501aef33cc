"""Load help-center articles: Markdown folders with front matter, or a Zendesk Help Center export."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import yaml
from bs4 import BeautifulSoup
from deflect.data.errors import DataFormatError
from deflect.data.records import Article
from deflect.data.text import normalize_text

logger = logging.getLogger(__name__)

_REQUIRED_FRONT_MATTER = ("id", "title", "locale", "url")
_HTML_BLOCKS = ["p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "td", "th", "dt", "dd"]


def load_articles(source: str | Path) -> list[Article]:
    path = Path(source)
    if path.is_dir():
        articles = [read_markdown_article(file) for file in sorted(path.rglob("*.md")) if file.name != "README.md"]
    elif path.is_file() and path.suffix.lower() == ".json":
        articles = read_zendesk_export(path)
    elif path.exists():
        raise DataFormatError(path, "articles must be a folder of Markdown files or a Zendesk export (.json)")
    else:
        raise DataFormatError(path, "no such file or folder")
    if not articles:
        raise DataFormatError(path, "no articles found")
    _check_unique_ids(path, articles)
    return articles


def _check_unique_ids(path: Path, articles: list[Article]) -> None:
    seen: set[str] = set()
    for article in articles:
        if article.id in seen:
            raise DataFormatError(path, f"article id '{article.id}' appears more than once")
        seen.add(article.id)


def _locale(value: Any) -> str:
    return str(value).strip().lower().replace("_", "-").split("-")[0]


def _intents(path: Path, value: Any, line: int | None = None, record: str | None = None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DataFormatError(path, "'intents' must be a list of intent ids", line=line, record=record)
    return tuple(item.strip() for item in value if item.strip())


def read_markdown_article(path: Path) -> Article:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataFormatError(path, "not UTF-8 text") from None
    lines = text.splitlines()
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
    body = "\n".join(lines[end + 1 :]).strip()
    if not body:
        raise DataFormatError(path, "the article has no body", line=end + 2)
    return Article(
        id=str(meta["id"]).strip(),
        title=normalize_text(str(meta["title"])),
        body=body,
        locale=_locale(meta["locale"]),
        url=str(meta["url"]).strip(),
        group_id=str(meta.get("group") or meta["id"]).strip(),
        intents=_intents(path, meta.get("intents"), line=2),
        section=str(meta["section"]).strip() if meta.get("section") else None,
        updated_at=str(meta["updated_at"]) if meta.get("updated_at") else None,
    )


def html_to_markdown(html: str) -> str:
    """Readable text with `##` headings and `-` list items, so chunking can follow the article's structure."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript"]):
        tag.decompose()
    blocks = []
    for element in soup.find_all(_HTML_BLOCKS):
        if element.find_parent(_HTML_BLOCKS) is not None:
            continue
        text = normalize_text(element.get_text(" "))
        if not text:
            continue
        if element.name in ("h1", "h2", "h3", "h4", "h5", "h6"):
            blocks.append(f"## {text}")
        elif element.name == "li":
            blocks.append(f"- {text}")
        else:
            blocks.append(text)
    return "\n\n".join(blocks) if blocks else normalize_text(soup.get_text(" "))


def read_zendesk_export(path: Path) -> list[Article]:
    """Zendesk Help Center `GET /api/v2/help_center/articles` JSON: `{"articles": [...]}`; drafts are skipped."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise DataFormatError(path, "not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise DataFormatError(path, f"invalid JSON ({error.msg})", line=error.lineno) from None
    if not isinstance(document, dict) or not isinstance(document.get("articles"), list):
        raise DataFormatError(path, "expected a JSON object with an 'articles' list (a Zendesk Help Center export)")
    articles = []
    for index, item in enumerate(document["articles"]):
        record = f"articles[{index}]"
        if not isinstance(item, dict):
            raise DataFormatError(path, "each article must be a JSON object", record=record)
        missing = [key for key in ("id", "title", "body", "html_url", "locale") if item.get(key) in (None, "")]
        if missing:
            raise DataFormatError(path, f"missing {', '.join(missing)}", record=record)
        if item.get("draft"):
            logger.info("skipped %s (id %s): draft", record, item["id"])
            continue
        body = html_to_markdown(str(item["body"]))
        if not body:
            raise DataFormatError(path, "the article body has no text", record=record)
        locale = _locale(item["locale"])
        articles.append(
            Article(
                id=f"{item['id']}-{locale}",
                title=normalize_text(str(item["title"])),
                body=body,
                locale=locale,
                url=str(item["html_url"]),
                group_id=str(item.get("source_id") or item["id"]),
                intents=_intents(path, item.get("label_names"), record=record),
                section=str(item["section_id"]) if item.get("section_id") is not None else None,
                updated_at=str(item["updated_at"]) if item.get("updated_at") else None,
            )
        )
    return articles
