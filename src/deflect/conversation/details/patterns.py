"""The details file of a deployment: the kinds of identifier its customers type (order and tracking numbers, product
codes, amounts, dates), the patterns and cue words that find each, and which PII kinds the agent is told were given.

It is read once, at start-up, into frozen dataclasses; any problem is a `DetailsConfigError` that names the file,
the kind and the field, so a deployment with a typo in a pattern fails on start and says where. The file format is
documented in the demo store's file, src/deflect/demo/details.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

import yaml

from deflect.conversation.pii import PiiLabel
from deflect.core.errors import DataFormatError

# When a candidate overlaps a span the PII finder reports: the PII reading wins (never), the identifier wins when a
# cue word of its kind is the nearest one (with_cue), or the identifier wins whatever (always).
OverPii = Literal["never", "with_cue", "always"]
OVER_PII: tuple[OverPii, ...] = get_args(OverPii)
# The value of a match, or None when the characters fit the pattern but are not a value (a date that is no date).
Normaliser = Callable[[re.Match[str]], str | None]
PII_KINDS = tuple(label.lower() for label in PiiLabel)

_TOP_KEYS = {"locales", "cue_window", "kinds", "pii_given"}
_KIND_KEYS = {"label", "patterns", "normaliser", "cues", "against", "requires_cue", "over_pii"}
_PATTERN_KEYS = {"regex", "requires_cue", "over_pii"}
_DEFAULT_CUE_WINDOW = {"before": 30, "after": 20}


class DetailsConfigError(DataFormatError):
    """A details file that cannot be used: the message names the file, the kind and the problem."""


@dataclass(frozen=True)
class DetailPattern:
    regex: re.Pattern[str]
    requires_cue: bool  # found only when a cue word of its kind is the nearest cue
    over_pii: OverPii


@dataclass(frozen=True)
class DetailKind:
    name: str
    labels: Mapping[str, str]  # locale → what the agent's package calls it ("주문번호")
    normaliser: str
    normalise: Normaliser
    patterns: tuple[DetailPattern, ...]
    cues: re.Pattern[str] | None  # words that say a number is of this kind (송장, tracking)
    against: re.Pattern[str] | None  # words that say it is something else (계좌, bank): nearest, they veto it


@dataclass(frozen=True)
class DetailsConfig:
    path: Path
    locales: tuple[str, ...]
    kinds: tuple[DetailKind, ...]  # in the file's order, which breaks ties between overlapping candidates
    given: Mapping[str, Mapping[str, str]]  # PII kind → locale → "연락처 제공됨"
    cue_before: int  # characters before a candidate searched for cue words
    cue_after: int


def load_config(path: Path, normalisers: Mapping[str, Normaliser]) -> DetailsConfig:
    """Reads and checks a details file; `normalisers` is the registry its `normaliser` names are looked up in."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise DetailsConfigError(path, f"cannot be read ({error.strerror or error})") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        raise DetailsConfigError(path, f"not valid YAML: {problem}", line=line) from error
    return _Reader(path, normalisers).config(raw)


def cue_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for a list of cue words: Korean words anywhere (they take particles: 송장은, 계좌로), English
    words whole and optionally inflected (orders, tracked), any run of spaces inside a phrase matching any other."""
    alternatives = []
    for word in sorted(set(words), key=len, reverse=True):
        body = r"\s*".join(re.escape(part) for part in word.split())
        alternatives.append(rf"(?<![A-Za-z]){body}(?:s|es|ed|ing)?(?![A-Za-z])" if word.isascii() else body)
    return re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None


class _Reader:
    def __init__(self, path: Path, normalisers: Mapping[str, Normaliser]):
        self.path = path
        self.normalisers = normalisers
        self.locales: tuple[str, ...] = ()

    def fail(self, where: str | None, problem: str) -> DetailsConfigError:
        return DetailsConfigError(self.path, problem, record=where)

    def config(self, raw: object) -> DetailsConfig:
        top = self.mapping(raw, None, "the file", _TOP_KEYS, required={"locales", "kinds"})
        locales = top["locales"]
        if not isinstance(locales, list) or not locales or not all(isinstance(x, str) and x for x in locales):
            raise self.fail(None, "`locales` must be a non-empty list of locale codes, e.g. [ko, en]")
        self.locales = tuple(locales)
        window = self.mapping(top.get("cue_window", _DEFAULT_CUE_WINDOW), None, "`cue_window`", {"before", "after"})
        before, after = (window.get(side, _DEFAULT_CUE_WINDOW[side]) for side in ("before", "after"))
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (before, after)):
            raise self.fail(None, "`cue_window` must map `before` and `after` to numbers of characters (0 or more)")
        kinds = self.mapping(top["kinds"], None, "`kinds`")
        if not kinds:
            raise self.fail(None, "`kinds` names no kind of detail")
        given = self.mapping(top.get("pii_given", {}), None, "`pii_given`", set(PII_KINDS))
        return DetailsConfig(
            path=self.path,
            locales=self.locales,
            kinds=tuple(self.kind(str(name), spec) for name, spec in kinds.items()),
            given=MappingProxyType(
                {kind: self.texts(texts, f"pii_given {kind}", "the text") for kind, texts in given.items()}
            ),
            cue_before=before,
            cue_after=after,
        )

    def kind(self, name: str, raw: object) -> DetailKind:
        where = f"kind {name}"
        if name in PII_KINDS:
            raise self.fail(where, f"`{name}` is a PII kind, reported by the PII finder: list it under `pii_given`")
        spec = self.mapping(raw, where, "a kind", _KIND_KEYS, required={"label", "patterns", "normaliser"})
        normaliser = spec["normaliser"]
        if normaliser not in self.normalisers:
            known = ", ".join(self.normalisers)
            raise self.fail(where, f"unknown normaliser {normaliser!r} (one of: {known})")
        requires_cue = self.flag(spec, "requires_cue", where, False)
        over_pii = self.over_pii(spec, where, "never")
        raw_patterns = spec["patterns"]
        if not isinstance(raw_patterns, list) or not raw_patterns:
            raise self.fail(where, "`patterns` must be a non-empty list of regular expressions")
        patterns = tuple(
            self.pattern(item, f"{where}, patterns[{i}]", requires_cue, over_pii) for i, item in enumerate(raw_patterns)
        )
        cues = cue_pattern(self.words(spec.get("cues", {}), where, "cues"))
        if cues is None and any(p.requires_cue or p.over_pii == "with_cue" for p in patterns):
            raise self.fail(where, "a pattern needs a cue (`requires_cue` or `over_pii: with_cue`) but `cues` is empty")
        return DetailKind(
            name=name,
            labels=self.texts(spec["label"], where, "`label`"),
            normaliser=normaliser,
            normalise=self.normalisers[normaliser],
            patterns=patterns,
            cues=cues,
            against=cue_pattern(self.words(spec.get("against", {}), where, "against")),
        )

    def pattern(self, raw: object, where: str, requires_cue: bool, over_pii: OverPii) -> DetailPattern:
        spec = {"regex": raw} if isinstance(raw, str) else self.mapping(raw, where, "a pattern", _PATTERN_KEYS)
        regex = spec.get("regex")
        if not isinstance(regex, str) or not regex:
            raise self.fail(where, "a pattern is a regular expression, or a mapping with `regex` and options")
        try:
            compiled = re.compile(regex)
        except re.error as error:
            raise self.fail(where, f"bad regular expression {regex!r}: {error}") from error
        return DetailPattern(
            regex=compiled,
            requires_cue=self.flag(spec, "requires_cue", where, requires_cue),
            over_pii=self.over_pii(spec, where, over_pii),
        )

    def mapping(
        self,
        raw: object,
        where: str | None,
        what: str,
        allowed: set[str] | None = None,
        required: Set[str] = frozenset(),
    ) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(where, f"{what} must be a mapping, not {_type_name(raw)}")
        keys = {str(key) for key in raw}
        if allowed is not None and (unknown := sorted(keys - allowed)):
            raise self.fail(where, f"unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(allowed))})")
        if missing := sorted(required - keys):
            raise self.fail(where, f"missing field(s) {', '.join(missing)}")
        return {str(key): value for key, value in raw.items()}

    def flag(self, spec: Mapping[str, Any], field: str, where: str, default: bool) -> bool:
        value = spec.get(field, default)
        if not isinstance(value, bool):
            raise self.fail(where, f"`{field}` must be true or false, not {_type_name(value)}")
        return value

    def over_pii(self, spec: Mapping[str, Any], where: str, default: OverPii) -> OverPii:
        value = spec.get("over_pii", default)
        for choice in OVER_PII:
            if value == choice:
                return choice
        raise self.fail(where, f"`over_pii` must be one of {', '.join(OVER_PII)}, not {value!r}")

    def texts(self, raw: object, where: str, what: str) -> Mapping[str, str]:
        """A text per locale, every locale of the file present."""
        texts = self.mapping(raw, where, what, set(self.locales), required=set(self.locales))
        for locale, text in texts.items():
            if not isinstance(text, str) or not text.strip():
                raise self.fail(where, f"{what} for {locale} must be a non-empty string")
        return MappingProxyType(texts)

    def words(self, raw: object, where: str, field: str) -> list[str]:
        """Cue words per locale; a message is matched against every locale's words (customers mix languages)."""
        per_locale = self.mapping(raw, where, f"`{field}`", set(self.locales))
        words: list[str] = []
        for locale, items in per_locale.items():
            if not isinstance(items, list) or not all(isinstance(word, str) and word.strip() for word in items):
                raise self.fail(where, f"`{field}` for {locale} must be a list of words")
            words += items
        return words


def _type_name(value: object) -> str:
    return {type(None): "nothing", str: "a string", list: "a list", bool: "true/false", int: "a number"}.get(
        type(value), type(value).__name__
    )
