"""HTML help-center pages: the article text with its structure kept, and metadata read from the page's head."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup, Tag

from deflect.core.records import Article
from deflect.core.text import detect_locale, normalize_text
from deflect.ingest.article_fields import SkippedArticle, article_url, normalize_locale, optional_text, parse_intents
from deflect.ingest.files import read_text

_BLOCKS = ["p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "td", "th", "dt", "dd"]
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_NOT_CONTENT = ["script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form"]


def html_to_markdown(html: str | Tag) -> str:
    """Readable text with `##` headings and `-` list items, so chunking can follow the article's structure."""
    soup = BeautifulSoup(html, "html.parser") if isinstance(html, str) else html
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    blocks = []
    for element in soup.find_all(_BLOCKS):
        if element.find_parent(_BLOCKS) is not None:
            continue
        text = normalize_text(element.get_text(" "))
        if not text:
            continue
        if element.name in _HEADINGS:
            blocks.append(f"## {text}")
        elif element.name == "li":
            blocks.append(f"- {text}")
        else:
            blocks.append(text)
    return "\n\n".join(blocks) if blocks else normalize_text(soup.get_text(" "))


def _meta(soup: BeautifulSoup, *names: str) -> str | None:
    for name in names:
        tag = soup.find("meta", attrs={"name": name}) or soup.find("meta", attrs={"property": name})
        if isinstance(tag, Tag) and optional_text(tag.get("content")):
            return optional_text(tag.get("content"))
    return None


def _link(soup: BeautifulSoup, rel: str) -> str | None:
    tag = soup.find("link", rel=rel)
    return optional_text(tag.get("href")) if isinstance(tag, Tag) else None


def read_html_page(path: Path) -> Article | SkippedArticle:
    """One saved help-center page. Metadata, each from the first place that has it:
    id — `<meta name="deflect:id">`, else the file name; title — `og:title`, the first `<h1>`, `<title>`;
    locale — `<html lang>`, `og:locale`, else detected from the text; url — `<link rel="canonical">`, `og:url`;
    intents — `<meta name="deflect:intents" content="a|b">`; section — `article:section`;
    updated_at — `article:modified_time`, the first `<time datetime>`; group — `deflect:group`, else the id."""
    soup = BeautifulSoup(read_text(path), "html.parser")
    heading = soup.find("h1")
    title_tag = soup.find("title")
    title = normalize_text(
        _meta(soup, "og:title")
        or (heading.get_text(" ") if isinstance(heading, Tag) else "")
        or (title_tag.get_text(" ") if isinstance(title_tag, Tag) else "")
    )
    if not title:
        return SkippedArticle(str(path), "no title (no og:title, <h1> or <title>)")
    url = _link(soup, "canonical") or _meta(soup, "og:url")
    if url is None:
        return SkippedArticle(str(path), 'no url (add <link rel="canonical" href="…">)')
    content = soup.find("article") or soup.find("main") or soup.find("body") or soup
    if not isinstance(content, Tag):
        return SkippedArticle(str(path), "no article content")
    for tag in content(_NOT_CONTENT):
        tag.decompose()
    if isinstance(heading, Tag) and normalize_text(heading.get_text(" ")) == title:
        heading.decompose()  # the title is indexed on its own; repeating it would weigh it twice
    body = html_to_markdown(content)
    if not body:
        return SkippedArticle(str(path), "no body text")
    html_tag = soup.find("html")
    declared_locale = (html_tag.get("lang") if isinstance(html_tag, Tag) else None) or _meta(soup, "og:locale")
    time_tag = soup.find("time", attrs={"datetime": True})
    article_id = _meta(soup, "deflect:id") or path.stem
    return Article(
        id=article_id,
        title=title,
        body=body,
        locale=normalize_locale(declared_locale) if declared_locale else detect_locale(f"{title} {body}"),
        url=article_url(path, url),
        group_id=_meta(soup, "deflect:group") or article_id,
        intents=parse_intents(path, _meta(soup, "deflect:intents")),
        section=_meta(soup, "article:section"),
        updated_at=_meta(soup, "article:modified_time")
        or (optional_text(time_tag.get("datetime")) if isinstance(time_tag, Tag) else None),
    )
