"""Payment cards (Luhn) and Korean resident registration numbers (RRN: birth date, gender digit, check digit)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from deflect.conversation.pii.cues import continues_space_group, nearest_cue, numeric

Spans = Iterator[tuple[int, int]]

# Groups may be joined by a dash or a space, not necessarily the same one throughout (4111-1111 1111-1111).
_CARD = numeric(
    r"(?:[0-9]{4}[- ]?[0-9]{4}[- ]?[0-9]{4}[- ]?[0-9]{3,4}"  # 4-4-4-4 and 4-4-4-3
    r"|[0-9]{4}[- ]?[0-9]{6}[- ]?[0-9]{5})"  # Amex 4-6-5
)
# Mastercard 2-series (2221-2720), Amex/JCB/Diners, Visa, Mastercard, Discover/UnionPay: not a date-led order id.
_CARD_PREFIX = re.compile(r"^(?:222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]|2720|[3-6])")


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def find_cards(text: str) -> Spans:
    """A Luhn-valid card number is redacted whatever word precedes it: customers paste their card right after
    "order"/"주문", and a 16-digit order id passes Luhn and a card prefix by chance only."""
    for match in _CARD.finditer(text):
        start, end = match.span()
        number = re.sub(r"[- ]", "", match.group())
        if (
            len(number) in (15, 16)
            and _CARD_PREFIX.match(number)
            and luhn_valid(number)
            and not (" " in match.group() and continues_space_group(text, start, end))
        ):
            yield start, end


# ---------------------------------------------------------------------------------------------------------- RRN

_RRN = numeric(r"(?P<birth>[0-9]{6})(?P<sep>-| - | |)(?P<back>[1-8][0-9]{6})")
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


def find_rrns(text: str) -> Spans:
    for match in _RRN.finditer(text):
        start, end = match.span()
        birth, back = match.group("birth"), match.group("back")
        if not rrn_birth_date_valid(birth, back[0]):
            continue
        if match.group("sep"):
            yield start, end
            continue
        # 13 bare digits with a birth date also fit parcel, order and account numbers: a cue for one of those
        # vetoes them, and so does an account cue; otherwise (no cue, or a short-code cue such as 인증) an RRN.
        # The check digit does not decide, since numbers issued from October 2020 do not have one.
        if nearest_cue(text, start, end) in (None, "rrn", "code"):
            yield start, end
