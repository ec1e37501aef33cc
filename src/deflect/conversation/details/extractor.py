"""Pulls the details an agent needs out of customer messages, by the patterns of a deployment's details file.

For one message: the PII finder runs on the raw text; every pattern of every kind runs on its normalised form
(NFKC, every dash a `-`, as the PII finder reads it); a candidate is kept when its normaliser gives a value, a group
named `date` in it is a real date, and the cue words around it allow it; a candidate that overlaps a PII span is
dropped unless its pattern's `over_pii` lets it win; overlapping candidates leave the longest (then the kind listed
first). The PII spans no kept identifier explains become "given" details, without their value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

from deflect.conversation.details.patterns import (
    DetailKind,
    DetailsConfig,
    Normaliser,
    load_config,
)
from deflect.conversation.pii import PiiSpan, find_pii
from deflect.conversation.pii.normalise import NormalisedText, normalise
from deflect.core.demo import DEMO_DETAILS

# Which way the nearest cue word points: to this kind (송장 for a tracking number) or away from it (계좌).
CueSide = Literal["own", "against"]


@dataclass(frozen=True)
class Detail:
    """One detail of a conversation. For PII kinds (phone, email, account, card, rrn, address, name) only the fact
    that it was given: `value` and `text` are None, so nothing of it reaches storage or the agent's package."""

    kind: str
    value: str | None  # normalised: "20261103-0012345", "4900 KRW", "--11-02"
    text: str | None  # the characters as the customer wrote them
    given: bool = False
    turn: int = 0  # index of the customer turn it came from (extract_conversation)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> Detail:
        return cls(row["kind"], row["value"], row["text"], bool(row["given"]), int(row["turn"]))


class DetailsExtractor:
    def __init__(self, config: DetailsConfig):
        self.config = config
        self._labels = {kind.name: kind.labels for kind in config.kinds}

    @classmethod
    def from_file(cls, path: Path) -> DetailsExtractor:
        """Raises DetailsConfigError naming the file, the kind and the problem."""
        return cls(load_config(path, NORMALISERS))

    @classmethod
    def demo(cls) -> DetailsExtractor:
        return cls.from_file(DEMO_DETAILS)

    def extract(self, text: str) -> list[Detail]:
        """The details of one message (raw, unredacted text), in order of position; repeats included."""
        pii = find_pii(text)
        candidates = [c for c in self._candidates(text, normalise(text)) if c.over_pii or not _overlaps_any(c, pii)]
        kept: list[_Candidate] = []
        for candidate in sorted(candidates, key=lambda c: (c.start - c.end, c.rank, c.start)):
            if not _overlaps_any(candidate, kept):
                kept.append(candidate)
        placed = [(c.start, c.detail) for c in kept]
        placed += [
            (span.start, Detail(span.label.lower(), None, None, given=True))
            for span in pii
            if span.label.lower() in self.config.given and not _overlaps_any(span, kept)
        ]
        return [detail for _, detail in sorted(placed, key=lambda pair: pair[0])]

    def extract_conversation(self, texts: Sequence[str]) -> list[Detail]:
        """The details of a conversation's customer turns, each once (by kind and value; a PII kind once whatever
        its value), where it first appeared, with that turn's index."""
        seen: set[tuple[str, str | None]] = set()
        details = []
        for turn, text in enumerate(texts):
            for detail in self.extract(text):
                if (detail.kind, detail.value) not in seen:
                    seen.add((detail.kind, detail.value))
                    details.append(replace(detail, turn=turn))
        return details

    def describe(self, detail: Detail, locale: str) -> str:
        """The line of the agent's package: "주문번호: 20261103-0012345", "연락처 제공됨"; an unknown locale gets the
        file's first one."""
        if locale not in self.config.locales:
            locale = self.config.locales[0]
        if detail.given:
            return self.config.given[detail.kind][locale]
        return f"{self._labels[detail.kind][locale]}: {detail.value}"

    def _candidates(self, text: str, normalised: NormalisedText) -> Iterator[_Candidate]:
        read = normalised.text
        for rank, kind in enumerate(self.config.kinds):
            for pattern in kind.patterns:
                for match in pattern.regex.finditer(read):
                    if match.end() == match.start() or not _date_group_valid(match):
                        continue
                    value = kind.normalise(match)
                    cue = self._nearest_cue(kind, read, match.start(), match.end())
                    if value is None or cue == "against" or (pattern.requires_cue and cue != "own"):
                        continue
                    start, end = normalised.original_span(*match.span())
                    over_pii = pattern.over_pii == "always" or (pattern.over_pii == "with_cue" and cue == "own")
                    yield _Candidate(start, end, rank, over_pii, Detail(kind.name, value, text[start:end]))

    def _nearest_cue(self, kind: DetailKind, text: str, start: int, end: int) -> CueSide | None:
        """Which side the closest cue word before the candidate is on, else the first one after it; an `against`
        word wins a tie (one cue word inside another)."""
        sides: list[tuple[CueSide, re.Pattern[str]]] = []
        if kind.against is not None:
            sides.append(("against", kind.against))
        if kind.cues is not None:
            sides.append(("own", kind.cues))
        if not sides:
            return None
        low, high = max(0, start - self.config.cue_before), min(len(text), end + self.config.cue_after)
        before: tuple[int, CueSide] | None = None
        after: tuple[int, CueSide] | None = None
        for side, pattern in sides:
            for match in pattern.finditer(text, low, start):
                if before is None or match.end() > before[0]:
                    before = (match.end(), side)
            found = pattern.search(text, end, high)
            if found is not None and (after is None or found.start() < after[0]):
                after = (found.start(), side)
        nearest = before or after
        return nearest[1] if nearest else None


@dataclass(frozen=True)
class _Candidate:
    start: int  # in the caller's text
    end: int
    rank: int  # the kind's place in the file
    over_pii: bool
    detail: Detail


def _overlaps_any(span: _Candidate | PiiSpan, others: Sequence[_Candidate | PiiSpan]) -> bool:
    return any(span.start < other.end and other.start < span.end for other in others)


def _date_group_valid(match: re.Match[str]) -> bool:
    """A group named `date` (YYYYMMDD, or YYMMDD of the 2000s) must be a calendar date: 20261341 is no order."""
    digits = match.groupdict().get("date")
    if digits is None:
        return True
    if len(digits) == 6:
        digits = "20" + digits
    return len(digits) == 8 and digits.isdigit() and _is_date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------------- normalisers


def _strip(match: re.Match[str]) -> str:
    return match.group().strip()


def _upper(match: re.Match[str]) -> str:
    return match.group().strip().upper()


def _digits(match: re.Match[str]) -> str:
    return re.sub(r"\D", "", match.group())


def _code(match: re.Match[str]) -> str:
    """`hm 20933`, `HM20933`, `hm_20933` → `HM-20933`: letters, one dash, the rest."""
    return re.sub(r"^([A-Z]+)[\s_-]*", r"\1-", match.group().strip().upper())


def _order_number(match: re.Match[str]) -> str:
    """15 digits as `YYYYMMDD-NNNNNNN`, with or without the dash typed; any other length as its digits."""
    digits = _digits(match)
    return f"{digits[:8]}-{digits[8:]}" if len(digits) == 15 else digits


_KOREAN_UNITS = {"백": 100, "천": 1000, "만": 10_000, "억": 100_000_000}
_AMOUNT_TOKEN = re.compile(r"(?P<number>\d[\d,]*(?:\.\d+)?)|(?P<unit>[백천만억])")
_DOLLARS = re.compile(r"\$|usd|dollar|buck", re.IGNORECASE)


def _amount(match: re.Match[str]) -> str | None:
    """`4,900원` → `4900 KRW`, `3만 5천원` → `35000 KRW`, `$12.50` → `12.50 USD`, `$12` → `12 USD`."""
    total, section, pending = Decimal(0), Decimal(0), None
    for token in _AMOUNT_TOKEN.finditer(match.group()):
        if token["number"] is not None:
            section += pending or 0
            pending = Decimal(token["number"].replace(",", ""))
            continue
        unit = _KOREAN_UNITS[token["unit"]]
        if unit < 10_000:  # 천 and 백 scale the number before them (3천), 만 and 억 everything since the last one
            section += (pending if pending is not None else 1) * unit
        else:
            counted = section + (pending or 0)
            total += (counted or 1) * unit
            section = Decimal(0)
        pending = None
    total += section + (pending or 0)
    if _DOLLARS.search(match.group()):
        cents = total.quantize(Decimal("0.01"), ROUND_HALF_UP)
        return f"{cents if cents != cents.to_integral_value() else int(cents)} USD"
    return f"{int(total.quantize(Decimal(1), ROUND_HALF_UP))} KRW"


_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}


def _date(match: re.Match[str]) -> str | None:
    """Groups `year` (optional), `month` (a number or an English name) and `day` → `2026-11-05`, or `--11-05` (ISO
    8601 month and day) without a year."""
    groups = match.groupdict()
    month_text, day_text, year_text = groups.get("month"), groups.get("day"), groups.get("year")
    if not month_text or not day_text:
        return None
    month = int(month_text) if month_text.isdigit() else _MONTHS.get(month_text[:3].lower(), 0)
    year = None if not year_text else int(year_text) + (2000 if len(year_text) == 2 else 0)
    # Without a year, 2000 (a leap year) only checks the day exists in the month: 2월 29일 may be a date.
    if not _is_date(year or 2000, month, int(day_text)):
        return None
    month_day = f"{month:02d}-{int(day_text):02d}"
    return f"{year:04d}-{month_day}" if year else f"--{month_day}"


NORMALISERS: Mapping[str, Normaliser] = {
    "strip": _strip,
    "upper": _upper,
    "digits": _digits,
    "code": _code,
    "order_number": _order_number,
    "amount": _amount,
    "date": _date,
}
