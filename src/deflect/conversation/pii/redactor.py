"""Finds every kind of PII in a message and replaces each value with its label."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from deflect.conversation.pii.accounts import find_accounts
from deflect.conversation.pii.addresses import find_addresses
from deflect.conversation.pii.contact import find_emails, find_ips, find_phones
from deflect.conversation.pii.names import find_names
from deflect.conversation.pii.normalise import normalise
from deflect.conversation.pii.numbers import find_cards, find_rrns
from deflect.conversation.pii.spans import PiiLabel, PiiSpan

_FINDERS: tuple[tuple[PiiLabel, Callable[[str], Iterator[tuple[int, int]]]], ...] = (
    (PiiLabel.EMAIL, find_emails),
    (PiiLabel.IP, find_ips),
    (PiiLabel.CARD, find_cards),
    (PiiLabel.RRN, find_rrns),
    (PiiLabel.ACCOUNT, find_accounts),
    (PiiLabel.PHONE, find_phones),
    (PiiLabel.NAME, find_names),
    (PiiLabel.ADDRESS, find_addresses),
)
# Where candidates overlap, the more specific kind wins, and the longest match within a tier.
_PRIORITY = {
    PiiLabel.CARD: 0,
    PiiLabel.RRN: 0,
    PiiLabel.EMAIL: 0,
    PiiLabel.IP: 0,
    PiiLabel.ACCOUNT: 1,
    PiiLabel.PHONE: 2,
    PiiLabel.NAME: 3,
    PiiLabel.ADDRESS: 3,
}


def find_pii(text: str) -> list[PiiSpan]:
    """PII spans in `text`, sorted by start and non-overlapping, as offsets into `text` itself: the patterns read
    its normalised form (full-width digits, any dash), and each span is mapped back to the characters it came from."""
    normalised = normalise(text)
    candidates = [
        PiiSpan(*normalised.original_span(start, end), label)
        for label, finder in _FINDERS
        for start, end in finder(normalised.text)
    ]
    candidates.sort(key=lambda span: (_PRIORITY[span.label], span.start - span.end, span.start))
    chosen: list[PiiSpan] = []
    for candidate in candidates:
        if all(candidate.end <= kept.start or kept.end <= candidate.start for kept in chosen):
            chosen.append(candidate)
    return sorted(chosen, key=lambda span: span.start)


def redact(text: str) -> str:
    """`text` with every PII span replaced by its label in brackets, e.g. `[PHONE]`; the rest is left as written."""
    parts, last = [], 0
    for span in find_pii(text):
        parts += [text[last : span.start], f"[{span.label}]"]
        last = span.end
    parts.append(text[last:])
    return "".join(parts)
