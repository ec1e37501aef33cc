"""Context for ambiguous digit runs: the cue words around a value and the shape of the number it belongs to.

Digit runs that are only ambiguous with order and tracking numbers (undashed account numbers, sort codes, bare
13-digit resident registration numbers) are decided by the nearest cue word.
"""

from __future__ import annotations

import re
from typing import Literal

# A number must not continue a longer token (`ORD-2026...`, `v1.2`, `1Z99...`), but may follow `Tel.`.
START = r"(?<![0-9A-Za-z_])(?<![0-9A-Za-z_]-)(?<![0-9]\.)"
END = r"(?![0-9A-Za-z_])(?![-.][0-9])"


def numeric(body: str) -> re.Pattern[str]:
    return re.compile(START + body + END, re.ASCII)


# "other": identifiers as long as personal numbers (orders, parcels, receipts); "code": short codes and amounts.
CueKind = Literal["other", "code", "rrn", "account", "payment"]
ACCOUNT_CUES = ("account", "payment")
_CUE_WINDOW_BEFORE = 40
_CUE_WINDOW_AFTER = 20

# Alternatives are tried left to right at each position, so longer phrases come first ("account id" is not a bank
# account, "sort code" is not a code) and the kinds are listed in that order too.
_CUES: dict[CueKind, tuple[str, str]] = {
    "other": (
        "주문|송장|운송장|택배|등기|배송|대한통운|한진|로젠|거래번호|결제번호|예약번호|영수증|사업자|회원번호|접수",
        r"(?:account|user|member|customer)\s*(?:id|name)|order|tracking|track|shipment|parcel|package|ups|usps|fedex"
        r"|dhl|invoice|ticket|case|reference|ref|confirmation|transaction|txn|receipt|member|customer",
    ),
    "code": (
        "승인|인증|확인번호|쿠폰|모델|고객센터|대표번호|금액|포인트|오류|에러|코드|아이디",
        r"approval|authori[sz]ation|auth|verification|code|otp|pin|coupon|model|error|amount|total|points?",
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
# Korean cue words take particles (계좌로, 은행에); English ones are whole words, optionally inflected.
_CUE = re.compile(
    "|".join(rf"(?P<{kind}>{korean}|\b(?:{english})(?:s|es|ed|ing)?\b)" for kind, (korean, english) in _CUES.items()),
    re.IGNORECASE,
)
_CUE_KINDS: dict[str, CueKind] = {kind: kind for kind in _CUES}

# An identifier cue right before the value ("주문번호 ", "order #", "tracking: ") vetoes account layouts.
_ID_CUE_BEFORE = re.compile(
    r"(?:주문|송장|운송장|등기|택배|대한통운|승인|인증|사업자(?:등록)?"
    r"|\b(?:order|tracking|cj|ups|usps|approval|invoice|ticket|reference|ref))"
    r"\s*(?:번호|no\.?|number|id|#)?\s*(?:는|은|:|#)?\s*$",
    re.IGNORECASE,
)


def nearest_cue(text: str, start: int, end: int) -> CueKind | None:
    """The kind of the closest cue word before the value, else the first one after it."""
    # One character past the start lets `토스(?=\s*[0-9])` see the number it names.
    before = list(_CUE.finditer(text, max(0, start - _CUE_WINDOW_BEFORE), start + 1))
    if before:
        return _cue_kind(before[-1])
    after = _CUE.search(text, end, min(len(text), end + _CUE_WINDOW_AFTER))
    return _cue_kind(after) if after else None


def _cue_kind(match: re.Match[str]) -> CueKind:
    return _CUE_KINDS[str(match.lastgroup)]


def after_id_cue(text: str, start: int) -> bool:
    return _ID_CUE_BEFORE.search(text, max(0, start - 24), start) is not None


_GROUP_AFTER = re.compile(r" [0-9]{3}")
_GROUP_BEFORE = re.compile(r"[0-9]{2} $")


def continues_space_group(text: str, start: int, end: int) -> bool:
    """True when a space-grouped number is part of a longer space-grouped run (USPS 22 digits, IBAN groups)."""
    return _GROUP_AFTER.match(text, end) is not None or _GROUP_BEFORE.search(text, max(0, start - 3), start) is not None
