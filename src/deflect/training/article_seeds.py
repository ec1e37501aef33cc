"""Texts a help center says about each of its topics, as stand-ins for customer messages: the article's title, its
headings, the questions it asks itself (FAQ-style lines), and the first sentences of its sections.

Each seed remembers its kind, so the bootstrap recipe can hold out whole kinds (or a share of them) as
pseudo-queries and say which texts it trained on."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from deflect.core.records import Article
from deflect.core.text import normalize_text

SeedKind = Literal["title", "heading", "question", "lead", "sentence"]
SEED_KINDS: tuple[SeedKind, ...] = ("title", "heading", "question", "lead", "sentence")

_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_LIST_ITEM = re.compile(r"^(?:[-*+]|\d+[.)])\s+")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(.+?)\1")
# A sentence ends at . ? ! (or their full-width forms) followed by a space, or at the end of the paragraph.
_SENTENCE_END = re.compile(r"(?<=[.?!。？！])\s+")
_MIN_CHARS = 4
_MAX_CHARS = 220


@dataclass(frozen=True)
class Seed:
    text: str
    group_id: str  # the article group: the intent a bootstrapped model predicts
    locale: str
    kind: SeedKind
    article_id: str


def plain_text(markdown: str) -> str:
    text = _LINK.sub(r"\1", markdown)
    text = _EMPHASIS.sub(r"\2", text)
    return normalize_text(text.replace("**", "").strip())


def _blocks(body: str) -> list[tuple[str | None, list[str]]]:
    """(heading, paragraphs and list items) per section; the text before the first heading has no heading."""
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    paragraph: list[str] = []

    def close() -> None:
        if paragraph:
            sections[-1][1].append(" ".join(paragraph))
            paragraph.clear()

    for raw in body.splitlines():
        line = raw.strip()
        heading = _HEADING.match(line)
        if heading:
            close()
            sections.append((plain_text(heading.group(1)), []))
        elif not line:
            close()
        elif _LIST_ITEM.match(line):
            close()
            paragraph.append(_LIST_ITEM.sub("", line))
            close()
        else:
            paragraph.append(line)
    close()
    return [(heading, blocks) for heading, blocks in sections if blocks or heading]


def sentences(paragraph: str) -> list[str]:
    return [part for part in (p.strip() for p in _SENTENCE_END.split(plain_text(paragraph))) if part]


def article_sections(article: Article) -> list[tuple[str | None, list[str]]]:
    """(heading, its sentences) for each section of the article's body, as plain text."""
    return [(heading, [s for block in blocks for s in sentences(block)]) for heading, blocks in _blocks(article.body)]


def _is_question(sentence: str) -> bool:
    return sentence.endswith(("?", "？"))


def _usable(text: str) -> bool:
    return _MIN_CHARS <= len(text) <= _MAX_CHARS and any(ch.isalpha() for ch in text)


def article_seeds(article: Article) -> list[Seed]:
    """The article's seeds, each text once (the first kind it appears as wins, in SEED_KINDS order)."""
    found: dict[str, SeedKind] = {}

    def add(text: str, kind: SeedKind) -> None:
        text = text.strip()
        if _usable(text) and text not in found:
            found[text] = kind

    add(plain_text(article.title), "title")
    sections = article_sections(article)
    for heading, _ in sections:
        if heading:
            add(heading, "question" if _is_question(heading) else "heading")
    every_sentence = []
    for _, section_sentences in sections:
        every_sentence.extend(section_sentences)
        for sentence in section_sentences:
            if _is_question(sentence):
                add(sentence, "question")
        if section_sentences:
            add(section_sentences[0], "lead")
    for sentence in every_sentence:
        add(sentence, "sentence")
    return [Seed(text, article.group_id, article.locale, kind, article.id) for text, kind in found.items()]


def help_center_seeds(articles: Iterable[Article]) -> list[Seed]:
    return [seed for article in articles for seed in article_seeds(article)]
