"""Text normalisation and locale detection shared by training, retrieval and serving."""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalize_text(text: str) -> str:
    """NFC (keeps Hangul syllables composed), drops control characters, folds whitespace."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    return _WHITESPACE.sub(" ", text).strip()


def _is_hangul(char: str) -> bool:
    code = ord(char)
    return (
        0xAC00 <= code <= 0xD7A3  # syllables
        or 0x1100 <= code <= 0x11FF  # jamo
        or 0x3130 <= code <= 0x318F  # compatibility jamo (ㅋㅋ, ㅠㅠ)
    )


def detect_locale(text: str, default: str = "en") -> str:
    """'ko' when Hangul makes up a fair share of the letters, else 'en' (the two locales we serve)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return default
    hangul = sum(1 for c in letters if _is_hangul(c))
    return "ko" if hangul / len(letters) >= 0.2 else "en"
