"""PII redaction for Korean and English support chat, run before a message is stored or shown to an agent.

Finds e-mail addresses, phone numbers, payment cards, Korean resident registration numbers (RRN), bank accounts and IP
addresses with precompiled patterns, then validates what a format allows (Luhn, RRN birth date, IPv4 octets, IPv6,
IBAN mod-97). Digit runs that are only ambiguous with order and tracking numbers (undashed account numbers, sort
codes) are accepted when the nearest cue word is a bank or account word. When candidates overlap, CARD/RRN/EMAIL/IP
win over ACCOUNT, which wins over PHONE, and the longest match wins within a tier.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal


class PiiLabel(StrEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CARD = "CARD"
    RRN = "RRN"
    ACCOUNT = "ACCOUNT"
    IP = "IP"


@dataclass(frozen=True)
class PiiSpan:
    start: int
    end: int
    label: PiiLabel


_PRIORITY = {
    PiiLabel.CARD: 0,
    PiiLabel.RRN: 0,
    PiiLabel.EMAIL: 0,
    PiiLabel.IP: 0,
    PiiLabel.ACCOUNT: 1,
    PiiLabel.PHONE: 2,
}

# A number must not continue a longer token (`ORD-2026...`, `v1.2`, `1Z99...`), but may follow `Tel.`.
_START = r"(?<![0-9A-Za-z_])(?<![0-9A-Za-z_]-)(?<![0-9]\.)"
_END = r"(?![0-9A-Za-z_])(?![-.][0-9])"


def _numeric(body: str) -> re.Pattern[str]:
    return re.compile(_START + body + _END, re.ASCII)


# ---------------------------------------------------------------------------------------------------------- cues

CueKind = Literal["other", "rrn", "account", "payment"]
_CUE_WINDOW_BEFORE = 40
_CUE_WINDOW_AFTER = 20

# Alternatives are tried left to right at each position, so longer phrases come first ("account id" is not a bank
# account, "sort code" is not a code) and the kinds are listed in that order too.
_CUES: dict[CueKind, tuple[str, str]] = {
    "other": (
        "주문|송장|운송장|택배|등기|배송|대한통운|한진|로젠|승인|인증|확인번호|거래번호|결제번호|예약번호|영수증|쿠폰|모델"
        "|사업자|고객센터|대표번호|금액|포인트|오류|에러|코드|회원번호|아이디|접수",
        r"(?:account|user|member|customer)\s*(?:id|name)|order|tracking|track|shipment|parcel|package|ups|usps|fedex"
        r"|dhl|approval|authori[sz]ation|auth|verification|code|otp|pin|coupon|model|invoice|ticket|case|reference|ref"
        r"|confirmation|transaction|txn|receipt|error|amount|total|points?|member|customer",
    ),
    "rrn": ("주민", r"resident\s*registration|resident\s*(?:id|no|number)|rrn|korean\s*id"),
    "account": (
        # 우리, 하나, 카카오(톡) and the like are everyday words: a bank only right before the number.
        r"계좌|은행|뱅크|예금주|신한|농협|카뱅|새마을|수협|신협|씨티|(?:국민|우리|하나|기업|토스|카카오)(?=\s*[0-9])",
        r"sort\s*code|sort|routing|aba|iban|bank|account|acct|a/c|kookmin|shinhan|woori|hana|nonghyup|ibk|toss|kakao|nh|kb",
    ),
    # Money movement: an account cue too, but too weak to call a phone-shaped digit run an account.
    "payment": ("입금|송금|이체|환불", r"deposit|transfer|wire|payee|beneficiary|refund"),
}
_ACCOUNT_CUES = ("account", "payment")
# Korean cue words take particles (계좌로, 은행에); English ones are whole words, optionally inflected.
_CUE = re.compile(
    "|".join(rf"(?P<{kind}>{korean}|\b(?:{english})(?:s|es|ed|ing)?\b)" for kind, (korean, english) in _CUES.items()),
    re.IGNORECASE,
)

_CUE_KINDS: dict[str, CueKind] = {kind: kind for kind in _CUES}

# An identifier cue right before the value ("주문번호 ", "order #", "tracking: ") vetoes card and account layouts.
_ID_CUE_BEFORE = re.compile(
    r"(?:주문|송장|운송장|등기|택배|대한통운|승인|인증|사업자(?:등록)?"
    r"|\b(?:order|tracking|cj|ups|usps|approval|invoice|ticket|reference|ref))"
    r"\s*(?:번호|no\.?|number|id|#)?\s*(?:는|은|:|#)?\s*$",
    re.IGNORECASE,
)


def _nearest_cue(text: str, start: int, end: int) -> CueKind | None:
    """The kind of the closest cue word before the value, else the first one after it."""
    # One character past the start lets `토스(?=\s*[0-9])` see the number it names.
    before = list(_CUE.finditer(text, max(0, start - _CUE_WINDOW_BEFORE), start + 1))
    if before:
        return _cue_kind(before[-1])
    after = _CUE.search(text, end, min(len(text), end + _CUE_WINDOW_AFTER))
    return _cue_kind(after) if after else None


def _cue_kind(match: re.Match[str]) -> CueKind:
    return _CUE_KINDS[str(match.lastgroup)]


def _after_id_cue(text: str, start: int) -> bool:
    return _ID_CUE_BEFORE.search(text, max(0, start - 24), start) is not None


_GROUP_AFTER = re.compile(r" [0-9]{3}")
_GROUP_BEFORE = re.compile(r"[0-9]{2} $")


def _continues_space_group(text: str, start: int, end: int) -> bool:
    """True when a space-grouped number is part of a longer space-grouped run (USPS 22 digits, IBAN groups)."""
    return _GROUP_AFTER.match(text, end) is not None or _GROUP_BEFORE.search(text, max(0, start - 3), start) is not None


# ---------------------------------------------------------------------------------------------------------- EMAIL

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}(?![A-Za-z0-9])",
    re.ASCII,
)


def _emails(text: str) -> Iterator[tuple[int, int]]:
    for match in _EMAIL.finditer(text):
        yield match.span()


# ---------------------------------------------------------------------------------------------------------- IP

_IPV4 = re.compile(r"(?<![0-9A-Za-z_.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9A-Za-z_]|\.[0-9])", re.ASCII)
# Maximal runs of hex digits, colons and dots that open with two colons within two groups; `ipaddress` decides.
_IPV6_RUN = re.compile(
    r"(?<![0-9A-Za-z_.])(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:.]+(?![0-9A-Za-z_])", re.ASCII
)


def _ips(text: str) -> Iterator[tuple[int, int]]:
    for match in _IPV4.finditer(text):
        if all(int(octet) <= 255 for octet in match.group().split(".")):
            yield match.span()
    for match in _IPV6_RUN.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in ".:" and not text[start:end].endswith("::"):
            end -= 1  # sentence punctuation or a `host:` separator after the address
        if text[start] == ":" and text[start : start + 2] != "::":
            start += 1  # `IP:2001:db8::1`
        candidate = text[start:end]
        if any(c.isalnum() for c in candidate) and _is_ipv6(candidate):
            yield start, end


def _is_ipv6(candidate: str) -> bool:
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------------------- CARD

_CARD = _numeric(
    r"(?:[0-9]{4}(?P<s>[- ]?)[0-9]{4}(?P=s)[0-9]{4}(?P=s)[0-9]{3,4}"  # 4-4-4-4 and 4-4-4-3
    r"|[0-9]{4}(?P<a>[- ]?)[0-9]{6}(?P=a)[0-9]{5}"  # Amex 4-6-5
    r"|[0-9]{15,16})"
)


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _cards(text: str) -> Iterator[tuple[int, int]]:
    for match in _CARD.finditer(text):
        start, end = match.span()
        number = re.sub(r"[- ]", "", match.group())
        if (
            len(number) in (15, 16)
            and number[0] in "23456"  # Mastercard 2-series, Amex/JCB, Visa, Mastercard, Discover/UnionPay
            and luhn_valid(number)
            and not (" " in match.group() and _continues_space_group(text, start, end))
            and not _after_id_cue(text, start)
        ):
            yield start, end


# ---------------------------------------------------------------------------------------------------------- RRN

_RRN = _numeric(r"(?P<birth>[0-9]{6})(?P<sep>-| - | |)(?P<back>[1-8][0-9]{6})")
_RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def rrn_birth_date_valid(birth: str, gender_digit: str) -> bool:
    """YYMMDD is a real past date in the century the gender digit gives: 1/2 1900s, 3/4 2000s, and 5-8 likewise
    for foreign residents' registration numbers, which share the layout."""
    century = 1900 if gender_digit in "1256" else 2000
    try:
        born = date(century + int(birth[:2]), int(birth[2:4]), int(birth[4:6]))
    except ValueError:
        return False
    return born <= date.today()


def rrn_check_digit_valid(number: str) -> bool:
    """Old-style check digit; RRNs issued from October 2020 have a random last digit instead."""
    total = sum(int(digit) * weight for digit, weight in zip(number[:12], _RRN_WEIGHTS, strict=True))
    return (11 - total % 11) % 10 == int(number[12])


def _rrns(text: str) -> Iterator[tuple[int, int]]:
    for match in _RRN.finditer(text):
        start, end = match.span()
        birth, back = match.group("birth"), match.group("back")
        if not rrn_birth_date_valid(birth, back[0]):
            continue
        if match.group("sep"):
            yield start, end
            continue
        # 13 bare digits also fit tracking and account numbers: want the check digit or an RRN cue.
        cue = _nearest_cue(text, start, end)
        if cue == "rrn" or (cue is None and rrn_check_digit_valid(birth + back)):
            yield start, end


# ---------------------------------------------------------------------------------------------------------- PHONE

_KR_AREA = r"(?:2|[3-6][1-5]|70)"
_PHONES = [
    # Korean mobile: 010-1234-5678, 01012345678, 010 1234 5678, 010.1234.5678
    _numeric(r"01[016789](?P<s> - |[-. ]|)[0-9]{3,4}(?P=s)[0-9]{4}"),
    # Korean landline and 070 VoIP: 02-123-4567, 031-1234-5678, 0212345678, (02) 123-4567
    _numeric(rf"0{_KR_AREA}(?P<s> - |[-. ]|)[0-9]{{3,4}}(?P=s)[0-9]{{4}}"),
    _numeric(r"0[1-9][0-9]{8,9}"),  # other undashed national numbers: UK 07700900123, 02079460123
    # Area code in parentheses: (02) 123-4567, (031)1234-5678, (020) 7946 0123
    re.compile(r"\(0[1-9][0-9]{0,3}\) ?[0-9]{3,4}[-. ]?[0-9]{3,4}" + _END, re.ASCII),
    # International: +82 10-1234-5678, +1 (415) 555-0123, +44 20 7946 0123, +44 (0)20 7946 0123
    re.compile(
        r"(?<![0-9A-Za-z_+])\+[1-9][0-9]{0,2}[-. ]?(?:\([0-9]{1,4}\)[-. ]?)?[0-9]{1,12}(?:[-. ][0-9]{1,6}){0,5}" + _END,
        re.ASCII,
    ),
    # US local: (415) 555-0123, 415-555-0123, 415.555.0123, 1-415-555-0123
    re.compile(r"(?<![0-9A-Za-z_])(?:1[-. ]?)?\([2-9][0-9]{2}\) ?[2-9][0-9]{2}[-. ]?[0-9]{4}" + _END, re.ASCII),
    _numeric(r"(?:1[-. ])?[2-9][0-9]{2}(?P<s>[-. ])[2-9][0-9]{2}(?P=s)[0-9]{4}"),
    # UK local: 020 7946 0123, 07700 900123, 0161 496 0123, 01632 960123, 020-7946-0123
    _numeric(r"0[1-9][0-9]{1,3}(?P<s>[ -])[0-9]{3,6}(?:(?P=s)[0-9]{3,4})?"),
]
_TOLL_FREE_US = re.compile(r"^1?(?:800|888|877|866|855|844|833)")
_KR_BUSINESS = re.compile(r"^(?:15|16|18)[0-9]{6}$")


def _phone_valid(text: str, start: int, end: int) -> bool:
    value = text[start:end]
    digits = re.sub(r"[^0-9]", "", value)
    if value.startswith("+"):
        if not 8 <= len(digits) <= 15:
            return False
        if digits.startswith("82"):
            national = digits[2:].removeprefix("0")
            return _KR_BUSINESS.match(national) is None and len(national) >= 8
        if digits.startswith("1"):
            return len(digits) == 11 and _TOLL_FREE_US.match(digits) is None
        return True
    if value.startswith("0"):
        return 9 <= len(digits) <= 11
    return _TOLL_FREE_US.match(digits) is None


def _phones(text: str) -> Iterator[tuple[int, int]]:
    for pattern in _PHONES:
        for match in pattern.finditer(text):
            if _phone_valid(text, *match.span()):
                yield match.span()


# ---------------------------------------------------------------------------------------------------------- ACCOUNT

# Korean bank layouts: 국민/우체국 6-2-6, 신한 3-3-6, 카카오뱅크/새마을 4-2-7, 우리 4-3-6, 하나 3-6-5, 농협 3-4-4-2,
# 토스뱅크 4-4-4, 기업 3-6-2-3, SC제일 3-2-6, 씨티 3-6-3.
_KR_LAYOUTS = ["6-2-6", "3-3-6", "4-2-7", "4-3-6", "3-6-5", "3-4-4-2", "4-4-4", "3-6-2-3", "3-2-6", "3-6-3"]


def _layout_pattern(layout: str, separator_group: str) -> str:
    """`3-3-6` as digit groups joined by a dash or a space, the same one throughout."""
    first, *rest = (f"[0-9]{{{size}}}" for size in layout.split("-"))
    return first + f"(?P<{separator_group}>[- ])" + f"(?P={separator_group})".join(rest)


_KR_ACCOUNT = _numeric("(?:" + "|".join(_layout_pattern(layout, f"s{i}") for i, layout in enumerate(_KR_LAYOUTS)) + ")")
_DIGIT_RUN = _numeric(r"[0-9]{8,17}")
_SORT_CODE = _numeric(r"[0-9]{2}(?P<s>[- ]?)[0-9]{2}(?P=s)[0-9]{2}")
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


def _ibans(text: str) -> Iterator[tuple[int, int]]:
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
        if iban_valid(chars) or (shaped and _nearest_cue(text, start, end) in _ACCOUNT_CUES):
            yield start, end


def _accounts(text: str) -> Iterator[tuple[int, int]]:
    yield from _ibans(text)
    for match in _KR_ACCOUNT.finditer(text):
        start, end = match.span()
        if " " in match.group():
            if _nearest_cue(text, start, end) in _ACCOUNT_CUES and not _continues_space_group(text, start, end):
                yield start, end
        elif not _after_id_cue(text, start):
            yield start, end
    for match in _SORT_CODE.finditer(text):
        start, end = match.span()
        if match.group("s"):
            if _nearest_cue(text, start, end) in _ACCOUNT_CUES:
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
        cue = _nearest_cue(text, start, end)
        if cue == "account" or (cue == "payment" and not _PHONE_SHAPED_BARE.match(digits)):
            yield start, end


# ---------------------------------------------------------------------------------------------------------- API


def find_pii(text: str) -> list[PiiSpan]:
    """PII spans in `text`, sorted by start and non-overlapping."""
    candidates = [
        PiiSpan(start, end, label)
        for label, finder in (
            (PiiLabel.EMAIL, _emails),
            (PiiLabel.IP, _ips),
            (PiiLabel.CARD, _cards),
            (PiiLabel.RRN, _rrns),
            (PiiLabel.ACCOUNT, _accounts),
            (PiiLabel.PHONE, _phones),
        )
        for start, end in finder(text)
    ]
    candidates.sort(key=lambda span: (_PRIORITY[span.label], span.start - span.end, span.start))
    chosen: list[PiiSpan] = []
    for candidate in candidates:
        if all(candidate.end <= kept.start or kept.end <= candidate.start for kept in chosen):
            chosen.append(candidate)
    return sorted(chosen, key=lambda span: span.start)


def redact(text: str) -> str:
    """`text` with every PII span replaced by its label in brackets, e.g. `[PHONE]`."""
    parts, last = [], 0
    for span in find_pii(text):
        parts += [text[last : span.start], f"[{span.label}]"]
        last = span.end
    parts.append(text[last:])
    return "".join(parts)
