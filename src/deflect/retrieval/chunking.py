"""Split articles along their headings and paragraphs into overlapping chunks small enough to embed well."""

from __future__ import annotations

import re
from dataclasses import dataclass

from deflect.core.records import Article

_HEADING = re.compile(r"^#{1,6}\s+(.*)$")


@dataclass(frozen=True)
class Chunk:
    article_id: str
    heading: str | None
    text: str

    def embedding_text(self, title: str) -> str:
        return "\n".join(part for part in (title, self.heading, self.text) if part)


def _sections(body: str) -> list[tuple[str | None, list[str]]]:
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    paragraph: list[str] = []

    def close_paragraph() -> None:
        if paragraph:
            sections[-1][1].append(" ".join(paragraph))
            paragraph.clear()

    for raw_line in body.splitlines():
        line = raw_line.strip()
        heading = _HEADING.match(line)
        if heading:
            close_paragraph()
            sections.append((heading.group(1).strip(), []))
        elif not line:
            close_paragraph()
        else:
            paragraph.append(line)
    close_paragraph()
    return [(heading, paragraphs) for heading, paragraphs in sections if paragraphs]


def _tail(text: str, size: int) -> str:
    if len(text) <= size:
        return text
    cut = text[-size:]
    space = cut.find(" ")
    return cut[space + 1 :] if 0 <= space < size // 2 else cut


def chunk_article(article: Article, max_chars: int = 700, overlap_chars: int = 120) -> list[Chunk]:
    """A title chunk, then per section paragraphs packed up to `max_chars`; each next chunk repeats the tail
    of the previous one so an answer that straddles a boundary is still found whole in one chunk."""
    chunks = [Chunk(article.id, None, article.title)]
    for heading, paragraphs in _sections(article.body):
        current = ""
        for paragraph in paragraphs:
            if current and len(current) + len(paragraph) + 1 > max_chars:
                chunks.append(Chunk(article.id, heading, current))
                current = _tail(current, overlap_chars)
            current = f"{current} {paragraph}".strip()
            while len(current) > max_chars:
                chunks.append(Chunk(article.id, heading, current[:max_chars]))
                current = current[max_chars - overlap_chars :]
        if current:
            chunks.append(Chunk(article.id, heading, current))
    return chunks
