"""Bank account numbers: Korean bank layouts, undashed runs next to a bank or account word, UK sort codes, IBANs."""

from __future__ import annotations

import re
from collections.abc import Iterator

from deflect.conversation.pii.cues import ACCOUNT_CUES, after_id_cue, continues_space_group, nearest_cue, numeric

Spans = Iterator[tuple[int, int]]

# Korean bank layouts: 국민/우체국 6-2-6, 신한 3-3-6, 카카오뱅크/새마을 4-2-7, 우리 4-3-6, 하나 3-6-5, 농협 3-4-4-2,
# 토스뱅크 4-4-4, 기업 3-6-2-3, SC제일 3-2-6, 씨티 3-6-3.
_KR_LAYOUTS = ["6-2-6", "3-3-6", "4-2-7", "4-3-6", "3-6-5", "3-4-4-2", "4-4-4", "3-6-2-3", "3-2-6", "3-6-3"]


def _layout_pattern(layout: str, separator_group: str) -> str:
    """`3-3-6` as digit groups joined by a dash or a space, the same one throughout."""
    first, *rest = (f"[0-9]{{{size}}}" for size in layout.split("-"))
    return first + f"(?P<{separator_group}>[- ])" + f"(?P={separator_group})".join(rest)


_KR_ACCOUNT = numeric("(?:" + "|".join(_layout_pattern(layout, f"s{i}") for i, layout in enumerate(_KR_LAYOUTS)) + ")")
_DIGIT_RUN = numeric(r"[0-9]{8,17}")
_SORT_CODE = numeric(r"[0-9]{2}(?P<s>[- ]?)[0-9]{2}(?P=s)[0-9]{2}")
_SORT_CODE_CUE_BEFORE = re.compile(r"sort[\s-]*code\W{0,3}$", re.IGNORECASE)
_KR_MOBILE_BARE = re.compile(r"^01[016789][0-9]{7,8}$")
_PHONE_SHAPED_BARE = re.compile(r"^0[1-9][0-9]{7,9}$")
_DATE_BARE = re.compile(r"^(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])$")
_MONEY_AFTER = re.compile(r"\s?(?:원|만|천|억|won|krw|usd|p\b|pt|%)", re.IGNORECASE)
_MONEY_BEFORE = re.compile(r"[₩$£€]\s?$")

_IBAN = re.compile(r"(?<![0-9A-Za-z_])(?P<country>[A-Z]{2})[0-9]{2}(?: ?[0-9A-Z]){10,32}", re.ASCII)
_IBAN_LENGTHS = {
    "GB": 22, "DE": 22, "IE": 22, "FR": 27, "ES": 24, "IT": 27, "NL": 18, "BE": 16, "CH": 21, "AT": 20,
    "PT": 25, "PL": 28, "SE": 24, "DK": 18, "NO": 15, "FI": 18, "LU": 20,
}  # fmt: skip
_IBAN_BBAN = {"GB": re.compile(r"^[A-Z]{4}[0-9]{14}$"), "DE": re.compile(r"^[0-9]{18}$")}


def iban_valid(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _ibans(text: str) -> Spans:
    for match in _IBAN.finditer(text):
        length = _IBAN_LENGTHS.get(match.group("country"))
        if length is None:
            continue
        # Take exactly the country's length of characters, so a following word is never swallowed.
        start, end, chars = match.start(), match.start(), ""
        while len(chars) < length and end < match.end():
            if text[end] != " ":
                chars += text[end]
            end += 1
        if len(chars) < length or (end < len(text) and text[end].isascii() and text[end].isalnum()):
            continue
        bban = _IBAN_BBAN.get(chars[:2])
        shaped = bban is not None and bban.match(chars[4:]) is not None
        if iban_valid(chars) or (shaped and nearest_cue(text, start, end) in ACCOUNT_CUES):
            yield start, end


def find_accounts(text: str) -> Spans:
    yield from _ibans(text)
    for match in _KR_ACCOUNT.finditer(text):
        start, end = match.span()
        if " " in match.group():
            if nearest_cue(text, start, end) in ACCOUNT_CUES and not continues_space_group(text, start, end):
                yield start, end
        elif not after_id_cue(text, start):
            yield start, end
    for match in _SORT_CODE.finditer(text):
        start, end = match.span()
        if match.group("s"):
            if nearest_cue(text, start, end) in ACCOUNT_CUES:
                yield start, end
        elif _SORT_CODE_CUE_BEFORE.search(text, max(0, start - 16), start):  # six bare digits need "sort code:" first
            yield start, end
    for match in _DIGIT_RUN.finditer(text):
        start, end = match.span()
        digits = match.group()
        if (
            _KR_MOBILE_BARE.match(digits)
            or _DATE_BARE.match(digits)
            or _MONEY_AFTER.match(text, end)
            or _MONEY_BEFORE.search(text, max(0, start - 2), start)
        ):
            continue
        cue = nearest_cue(text, start, end)
        if cue == "account" or (cue == "payment" and not _PHONE_SHAPED_BARE.match(digits)):
            yield start, end
