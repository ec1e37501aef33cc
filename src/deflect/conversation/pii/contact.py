"""E-mail addresses, phone numbers (Korean, international, US, UK) and IP addresses."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from deflect.conversation.pii.cues import END, numeric

Spans = Iterator[tuple[int, int]]

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}(?![A-Za-z0-9])",
    re.ASCII,
)


def find_emails(text: str) -> Spans:
    for match in _EMAIL.finditer(text):
        yield match.span()


# ---------------------------------------------------------------------------------------------------------- PHONE

_KR_AREA = r"(?:2|[3-6][1-5]|70)"
# People mix separators within one number (010-12345678, 010 1234-5678, 031)123-4567), so each gap has its own.
_GAP = r"(?: ?[-.] ?| )?"
_PHONES = [
    # Korean mobile: 010-1234-5678, 01012345678, 010 1234 5678, 010.1234.5678, 010-12345678
    numeric(rf"01[016789]{_GAP}[0-9]{{3,4}}{_GAP}[0-9]{{4}}"),
    # Korean landline and 070 VoIP: 02-123-4567, 031-1234-5678, 0212345678, 031)123-4567
    numeric(rf"0{_KR_AREA}(?:\) ?|{_GAP})[0-9]{{3,4}}{_GAP}[0-9]{{4}}"),
    numeric(r"0[1-9][0-9]{8,9}"),  # other undashed national numbers: UK 07700900123, 02079460123
    # Area code in parentheses: (02) 123-4567, (031)1234-5678, (020) 7946 0123
    re.compile(r"\(0[1-9][0-9]{0,3}\) ?[0-9]{3,4}[-. ]?[0-9]{3,4}" + END, re.ASCII),
    # International: +82 10-1234-5678, +1 (415) 555-0123, +44 20 7946 0123, +44 (0)20 7946 0123
    re.compile(
        r"(?<![0-9A-Za-z_+])\+[1-9][0-9]{0,2}[-. ]?(?:\([0-9]{1,4}\)[-. ]?)?[0-9]{1,12}(?:[-. ][0-9]{1,6}){0,5}" + END,
        re.ASCII,
    ),
    # US local: (415) 555-0123, 415-555-0123, 415.555.0123, 1-415-555-0123
    re.compile(r"(?<![0-9A-Za-z_])(?:1[-. ]?)?\([2-9][0-9]{2}\) ?[2-9][0-9]{2}[-. ]?[0-9]{4}" + END, re.ASCII),
    numeric(r"(?:1[-. ])?[2-9][0-9]{2}(?P<s>[-. ])[2-9][0-9]{2}(?P=s)[0-9]{4}"),
    # UK local: 020 7946 0123, 07700 900123, 0161 496 0123, 01632 960123, 020-7946-0123
    numeric(r"0[1-9][0-9]{1,3}(?P<s>[ -])[0-9]{3,6}(?:(?P=s)[0-9]{3,4})?"),
]
_TOLL_FREE_US = re.compile(r"^1?(?:800|888|877|866|855|844|833)")
_KR_BUSINESS = re.compile(r"^(?:15|16|18)[0-9]{6}$")


def _phone_valid(value: str) -> bool:
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


def find_phones(text: str) -> Spans:
    for pattern in _PHONES:
        for match in pattern.finditer(text):
            if _phone_valid(match.group()):
                yield match.span()


# ---------------------------------------------------------------------------------------------------------- IP

_IPV4 = re.compile(r"(?<![0-9A-Za-z_.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9A-Za-z_]|\.[0-9])", re.ASCII)
# Maximal runs of hex digits, colons and dots that open with two colons within two groups; `ipaddress` decides.
_IPV6_RUN = re.compile(
    r"(?<![0-9A-Za-z_.])(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:.]+(?![0-9A-Za-z_])", re.ASCII
)


def find_ips(text: str) -> Spans:
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
