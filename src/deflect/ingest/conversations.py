"""The conversation evaluation set we wrote for the demo store (data/benchmarks/conversations/): conversations of
2–4 customer turns, each turn labelled with its intent (or out of scope), its kind (opening, follow-up, correction,
confirmation, detail, between, new topic), whether it depends on the previous turn, the details it carries, and
what the customer would type or say if asked to clarify; and single messages that sit between two intents.
Each file is JSON Lines; a malformed line is named by file and line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deflect.core.errors import DataFormatError
from deflect.core.records import OUT_OF_SCOPE

TURN_KINDS = frozenset({"opening", "follow_up", "correction", "confirmation", "detail", "between", "new_topic"})
CONTEXT_KINDS = frozenset({"follow_up", "correction", "confirmation", "detail"})  # elliptical or corrective turns
SPLITS = frozenset({"validation", "test"})


@dataclass(frozen=True)
class Detail:
    kind: str
    value: str


@dataclass(frozen=True)
class LabelledTurn:
    text: str
    intent: str
    kind: str
    depends_on_previous: bool
    details: tuple[Detail, ...] = ()
    typed: str | None = None  # what the customer types when asked "which of these?"
    rephrase: str | None = None  # what they say when asked to put it differently


@dataclass(frozen=True)
class LabelledConversation:
    id: str
    locale: str
    split: str
    turns: tuple[LabelledTurn, ...]
    close_to: str | None = None  # for a single message between two intents: the other one


def _turn(raw: dict[str, Any], intents: frozenset[str], where: str) -> LabelledTurn:
    intent, kind = raw.get("intent"), raw.get("kind", "between")
    if intent not in intents:
        raise ValueError(f"{where}: unknown intent {intent!r}")
    if kind not in TURN_KINDS:
        raise ValueError(f"{where}: unknown turn kind {kind!r}")
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: a turn needs its text")
    details = tuple(Detail(d["kind"], d["value"]) for d in raw.get("details", []))
    for detail in details:
        if detail.value not in text:
            raise ValueError(f"{where}: detail {detail.value!r} is not in the text")
    asked = raw.get("if_asked") or {}
    depends = bool(raw.get("depends_on_previous", False))
    return LabelledTurn(text, intent, kind, depends, details, asked.get("typed"), asked.get("rephrase"))


def _conversation(raw: dict[str, Any], intents: frozenset[str]) -> LabelledConversation:
    if raw.get("split") not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, not {raw.get('split')!r}")
    if raw.get("locale") not in ("ko", "en"):
        raise ValueError(f"locale must be ko or en, not {raw.get('locale')!r}")
    if "turns" in raw:
        turns = tuple(_turn(turn, intents, f"turn {i + 1}") for i, turn in enumerate(raw["turns"]))
        if not 2 <= len(turns) <= 4:
            raise ValueError(f"a conversation has 2–4 customer turns, not {len(turns)}")
        return LabelledConversation(raw["id"], raw["locale"], raw["split"], turns)
    close_to = raw.get("close_to")
    if close_to not in intents:
        raise ValueError(f"unknown close_to intent {close_to!r}")
    return LabelledConversation(raw["id"], raw["locale"], raw["split"], (_turn(raw, intents, "message"),), close_to)


def read_conversations(path: Path, intents: frozenset[str]) -> list[LabelledConversation]:
    """One file's conversations; raises DataFormatError naming the file and line of the first bad one."""
    known = intents | {OUT_OF_SCOPE}
    conversations: list[LabelledConversation] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                conversation = _conversation(json.loads(line), known)
            except (ValueError, KeyError, TypeError) as error:
                problem = f"missing field {error}" if isinstance(error, KeyError) else str(error)
                raise DataFormatError(path, problem, line=number) from None
            if conversation.id in seen:
                raise DataFormatError(path, f"id {conversation.id!r} appears twice", line=number)
            seen.add(conversation.id)
            conversations.append(conversation)
    return conversations


def evaluation_set(
    folder: Path, intents: frozenset[str], split: str | None = "test"
) -> tuple[list[LabelledConversation], list[LabelledConversation]]:
    """(conversations, single between-intent messages) of every locale in `folder` (or of the one file `folder`
    names), of one split (None: both)."""
    conversations: list[LabelledConversation] = []
    between: list[LabelledConversation] = []
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else [folder]:
        rows = read_conversations(path, intents)
        (between if path.stem.startswith("between") else conversations).extend(rows)
    keep = (lambda c: c.split == split) if split else (lambda c: True)
    return [c for c in conversations if keep(c)], [c for c in between if keep(c)]
