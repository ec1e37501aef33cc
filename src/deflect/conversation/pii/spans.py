"""What the redactor reports: a labelled character span of the text it was given."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PiiLabel(StrEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CARD = "CARD"
    RRN = "RRN"
    ACCOUNT = "ACCOUNT"
    IP = "IP"
    NAME = "NAME"
    ADDRESS = "ADDRESS"


@dataclass(frozen=True)
class PiiSpan:
    """`text[start:end]` of the caller's (not the normalised) text is the value."""

    start: int
    end: int
    label: PiiLabel
