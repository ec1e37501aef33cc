"""The text the patterns read: NFKC (full-width digits and letters, ideographic and thin spaces), every dash
character folded to `-` and invisible format characters dropped, with a map back to the caller's offsets."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

# NFKC leaves these alone: figure dash, en and em dashes, horizontal bar, minus sign, small and full-width forms.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d"
# Zero-width space and joiners, word joiner, byte-order mark, soft hyphen: typed (or pasted) inside a number.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_FOLD = str.maketrans({**dict.fromkeys(_DASHES, "-"), **dict.fromkeys(_INVISIBLE, None)})
_FOLDED = frozenset(_DASHES + _INVISIBLE)


@dataclass(frozen=True)
class NormalisedText:
    text: str
    # For each character of `text`, the original characters it came from; None when `text` is the original.
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def normalise(text: str) -> NormalisedText:
    if text.isascii() or (unicodedata.is_normalized("NFKC", text) and _FOLDED.isdisjoint(text)):
        return NormalisedText(text)
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for start, end in _segments(text):
        folded = unicodedata.normalize("NFKC", text[start:end]).translate(_FOLD)
        parts.append(folded)
        starts += [start] * len(folded)
        ends += [end] * len(folded)
    return NormalisedText("".join(parts), tuple(starts), tuple(ends))


def _segments(text: str) -> Iterator[tuple[int, int]]:
    """A base character with the marks (and Hangul vowel and final jamo) that normalisation may fold into it, so
    that each segment normalises on its own and every normalised character has a place in the original."""
    start = 0
    for index in range(1, len(text)):
        char = text[index]
        if not unicodedata.combining(char) and not ("\u1160" <= char <= "\u11ff" or "\ud7b0" <= char <= "\ud7ff"):
            yield start, index
            start = index
    if text:
        yield start, len(text)
