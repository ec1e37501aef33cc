"""Load a help center: a folder of Markdown and HTML pages, a Zendesk Help Center export, or a CSV table.

Malformed input is an error naming the file and place; articles that are well formed but have nothing to index
(drafts, empty bodies, files of other types) are skipped and reported with the reason."""

from __future__ import annotations

from pathlib import Path

from deflect.core.errors import DataFormatError
from deflect.core.records import Article
from deflect.ingest.article_fields import ArticleCollection, SkippedArticle
from deflect.ingest.article_table import read_article_table
from deflect.ingest.html_pages import read_html_page
from deflect.ingest.markdown_articles import read_markdown_article
from deflect.ingest.zendesk import read_zendesk_export


def read_articles(source: str | Path) -> ArticleCollection:
    """Every article of a help center, and what was skipped and why."""
    path = Path(source)
    collection = ArticleCollection()
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            relative = file.relative_to(path)
            if any(part.startswith(".") for part in relative.parts) or file.name == "README.md":
                continue
            suffix = file.suffix.lower()
            if suffix in (".md", ".markdown"):
                collection.add(read_markdown_article(file))
            elif suffix in (".html", ".htm"):
                collection.add(read_html_page(file))
            else:
                collection.add(SkippedArticle(str(file), f"not an article file ({suffix or 'no extension'})"))
    elif path.is_file():
        suffix = path.suffix.lower()
        if suffix == ".json":
            collection.extend(read_zendesk_export(path))
        elif suffix == ".csv":
            collection.extend(read_article_table(path))
        elif suffix in (".md", ".markdown"):
            collection.add(read_markdown_article(path))
        elif suffix in (".html", ".htm"):
            collection.add(read_html_page(path))
        else:
            raise DataFormatError(
                path,
                f"unsupported article source {suffix or '(no extension)'}; use a folder, .json, .csv, .md or .html",
            )
    else:
        raise DataFormatError(path, "no such file or folder")
    if not collection.articles:
        reasons = "; ".join(f"{s.source}: {s.reason}" for s in collection.skipped[:3])
        raise DataFormatError(path, "no articles found" + (f" (skipped {reasons})" if reasons else ""))
    _check_unique_ids(path, collection.articles)
    return collection


def load_articles(source: str | Path) -> list[Article]:
    return read_articles(source).articles


def _check_unique_ids(path: Path, articles: list[Article]) -> None:
    seen: set[str] = set()
    for article in articles:
        if article.id in seen:
            raise DataFormatError(path, f"article id '{article.id}' appears more than once")
        seen.add(article.id)
