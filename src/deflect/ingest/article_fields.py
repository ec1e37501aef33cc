"""What every article reader shares: the skip record, the collection it fills, and field parsing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deflect.core.errors import DataFormatError
from deflect.core.links import article_url_problem
from deflect.core.records import Article


@dataclass(frozen=True)
class SkippedArticle:
    source: str  # a file, or a file and the record in it
    reason: str


@dataclass
class ArticleCollection:
    articles: list[Article] = field(default_factory=list)
    skipped: list[SkippedArticle] = field(default_factory=list)

    def add(self, item: Article | SkippedArticle) -> None:
        if isinstance(item, Article):
            self.articles.append(item)
        else:
            self.skipped.append(item)

    def extend(self, other: ArticleCollection) -> None:
        self.articles.extend(other.articles)
        self.skipped.extend(other.skipped)


def normalize_locale(value: Any) -> str:
    """'en-US', 'en_us' and 'EN' all become 'en': we search by language."""
    return str(value).strip().lower().replace("_", "-").split("-")[0]


def parse_intents(path: Path, value: Any, line: int | None = None, record: str | None = None) -> tuple[str, ...]:
    """Intent ids linked to an article: a list, or one string with ids separated by '|' or ','."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.replace(",", "|").split("|")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DataFormatError(path, "'intents' must be a list of intent ids", line=line, record=record)
    return tuple(item.strip() for item in value if item.strip())


def optional_text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def article_url(path: Path, value: Any, line: int | None = None, record: str | None = None) -> str:
    """The article's link as customers will follow it; a `javascript:` or other unsafe URL is an error here, before
    it can reach an answer."""
    url = str(value).strip()
    problem = article_url_problem(url)
    if problem is not None:
        raise DataFormatError(path, f"url {url[:80]!r} {problem}", line=line, record=record)
    return url
