"""Past conversations → the customer messages worth clustering.

Three kinds of input, told apart by their shape:

- **Transcripts** (`.csv` or `.jsonl`, one message a row, in the order they were sent): `conversation_id`, `text`,
  optional `role` (`customer`/`user`/`visitor`/`end-user`/`requester`, or `agent`/`bot`/`assistant`/`operator`/
  `system`; without the column every message is the customer's), optional `locale`, and optional `handoff`
  (`true`/`1`/`yes` on the row after which the conversation went to a person).
- **One message a row** (`.csv` or `.jsonl` with `text` and no `conversation_id`): each row is an opening.
- **A Zendesk ticket export** (`.json`, `{"tickets": [...]}` as `GET /api/v2/tickets` returns it, each ticket with
  `id` and its `description`, or with its `comments` side-loaded: `author_id`, `body` or `plain_body`, `public`).

What is taken from a conversation:

- its **opening**: the customer's messages before the first reply (joined, at most three of them), skipping a
  first turn that is only a greeting ("hi", "안녕하세요"), after which the next customer turn is the opening. With
  no roles, the first message. From a ticket, the requester's public comments before anyone else's, else its
  description.
- where a row is marked `handoff`, the customer's messages **before the handoff**: the customer turn it ends (or
  the one before it, when the marked row is an agent's or the bot's), unless that turn is the opening itself.
  Those are the questions the bot could not settle, where a missing intent or article shows first."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from deflect.core.errors import DataFormatError
from deflect.core.text import detect_locale, normalize_text
from deflect.ingest.files import read_text
from deflect.ingest.utterances import _numbered_rows

MessageKind = Literal["opening", "before_handoff"]
CUSTOMER_ROLES = frozenset({"customer", "user", "visitor", "end-user", "end_user", "requester"})
OTHER_ROLES = frozenset({"agent", "bot", "assistant", "operator", "system", "admin"})
TRUE_WORDS = frozenset({"true", "1", "yes", "y"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", ""})
# The question sits in the first lines of a turn; a long unanswered run goes on with waiting and complaints.
MAX_JOINED_MESSAGES = 3
_GREETINGS = frozenset(
    {
        "hi",
        "hello",
        "hey",
        "hi there",
        "hello there",
        "good morning",
        "good afternoon",
        "good evening",
        "안녕하세요",
        "안녕",
        "하이",
        "여보세요",
        "저기요",
        "문의드립니다",
        "문의드려요",
        "질문있어요",
        "질문 있어요",
    }
)
_PUNCTUATION = re.compile(r"[^\w\s]+")


@dataclass(frozen=True)
class CustomerMessage:
    """A text to cluster: a conversation's opening, or what the customer said before a handoff."""

    conversation_id: str
    kind: MessageKind
    text: str
    locale: str
    source: str  # where it came from in the input: "line 12" or "tickets[3]"


@dataclass(frozen=True)
class _Turn:
    line: int
    text: str
    from_customer: bool
    handoff: bool
    locale: str | None


def is_greeting(text: str) -> bool:
    """A turn that says hello and nothing else carries no intent."""
    bare = _PUNCTUATION.sub(" ", text.lower())
    return " ".join(bare.split()) in _GREETINGS


def read_customer_messages(path: str | Path) -> list[CustomerMessage]:
    """The openings (and pre-handoff turns) of every conversation in a transcript file, a message-per-row file or a
    Zendesk ticket export; a malformed file raises DataFormatError naming the file, the line and the problem."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return _zendesk_tickets(path)
    rows = _numbered_rows(path)
    if not any("conversation_id" in row for _, row in rows):
        return [_single(path, line, row) for line, row in rows]
    return _transcripts(path, rows)


def _single(path: Path, line: int, row: dict[str, Any]) -> CustomerMessage:
    text = normalize_text(row["text"])
    return CustomerMessage(str(line), "opening", text, _locale(path, line, row, text), f"line {line}")


def _locale(path: Path, line: int, row: dict[str, Any], text: str) -> str:
    value = row.get("locale")
    if value is None or value == "":
        return detect_locale(text)
    if not isinstance(value, str):
        raise DataFormatError(path, "'locale' must be a string", line=line)
    return value.strip().lower().replace("_", "-").split("-")[0] or detect_locale(text)


def _flag(path: Path, line: int, value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    word = str(value).strip().lower()
    if word not in TRUE_WORDS | FALSE_WORDS:
        raise DataFormatError(path, f"'handoff' must be true or false, not {value!r}", line=line)
    return word in TRUE_WORDS


def _turn(path: Path, line: int, row: dict[str, Any], has_roles: bool) -> tuple[str, _Turn]:
    conversation = row.get("conversation_id")
    if conversation is None or not str(conversation).strip():
        raise DataFormatError(path, "'conversation_id' is missing or empty", line=line)
    role = str(row.get("role") or "").strip().lower()
    if has_roles and role not in CUSTOMER_ROLES | OTHER_ROLES:
        known = ", ".join(sorted(CUSTOMER_ROLES | OTHER_ROLES))
        raise DataFormatError(path, f"unknown role {row.get('role')!r} (use one of: {known})", line=line)
    text = normalize_text(row["text"])
    locale = _locale(path, line, row, text) if row.get("locale") else None
    turn = _Turn(line, text, role in CUSTOMER_ROLES or not has_roles, _flag(path, line, row.get("handoff")), locale)
    return str(conversation).strip(), turn


def _transcripts(path: Path, rows: list[tuple[int, dict[str, Any]]]) -> list[CustomerMessage]:
    has_roles = any(row.get("role") not in (None, "") for _, row in rows)
    conversations: dict[str, list[_Turn]] = {}
    for line, row in rows:
        conversation, turn = _turn(path, line, row, has_roles)
        conversations.setdefault(conversation, []).append(turn)
    messages: list[CustomerMessage] = []
    for conversation, turns in conversations.items():
        runs = _customer_runs(turns) if has_roles else [[turns[0]]]
        opening = _opening(runs)
        if opening is not None:
            messages.append(_message(conversation, "opening", opening))
        taken = {turn.line for turn in opening or []}
        for run in _runs_before_handoffs(turns, runs):
            if not taken & {turn.line for turn in run}:
                messages.append(_message(conversation, "before_handoff", run))
                taken |= {turn.line for turn in run}
    return messages


def _customer_runs(turns: list[_Turn]) -> list[list[_Turn]]:
    """The customer's consecutive messages between replies."""
    runs: list[list[_Turn]] = []
    previous_from_customer = False
    for turn in turns:
        if turn.from_customer:
            if not previous_from_customer:
                runs.append([])
            runs[-1].append(turn)
        previous_from_customer = turn.from_customer
    return runs


def _opening(runs: list[list[_Turn]]) -> list[_Turn] | None:
    for run in runs:
        said = [turn for turn in run if not is_greeting(turn.text)]
        if said:
            return run if len(said) == len(run) else said
    return None


def _runs_before_handoffs(turns: list[_Turn], runs: list[list[_Turn]]) -> Iterable[list[_Turn]]:
    """For each turn marked `handoff`, the customer run it ends or the last one before it (greetings left out)."""
    for marked in (turn for turn in turns if turn.handoff):
        before = [run for run in runs if run[0].line <= marked.line]
        said = [turn for turn in before[-1] if not is_greeting(turn.text)] if before else []
        if said:
            yield said


def _message(conversation: str, kind: MessageKind, run: list[_Turn]) -> CustomerMessage:
    taken = run[:MAX_JOINED_MESSAGES]
    text = " ".join(turn.text for turn in taken)
    locale = next((turn.locale for turn in taken if turn.locale), None) or detect_locale(text)
    return CustomerMessage(conversation, kind, text, locale, f"line {taken[0].line}")


def _ticket_list(path: Path) -> list[Any]:
    try:
        document = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise DataFormatError(path, f"invalid JSON ({error.msg})", line=error.lineno) from None
    tickets = document.get("tickets") if isinstance(document, dict) else None
    if isinstance(tickets, list):
        return tickets
    raise DataFormatError(path, "expected a JSON object with a 'tickets' list (a Zendesk ticket export)")


def _zendesk_tickets(path: Path) -> list[CustomerMessage]:
    messages = []
    for index, ticket in enumerate(_ticket_list(path)):
        record = f"tickets[{index}]"
        if not isinstance(ticket, dict) or ticket.get("id") in (None, ""):
            raise DataFormatError(path, "each ticket must be a JSON object with an 'id'", record=record)
        text = _ticket_opening(path, ticket, record)
        if text:
            messages.append(CustomerMessage(str(ticket["id"]), "opening", text, detect_locale(text), record))
    if not messages:
        raise DataFormatError(path, "no ticket has a description or a requester's comment")
    return messages


def _ticket_opening(path: Path, ticket: dict[str, Any], record: str) -> str:
    comments = ticket.get("comments")
    if comments is None:
        return normalize_text(str(ticket.get("description") or ""))
    if not isinstance(comments, list):
        raise DataFormatError(path, "'comments' must be a list", record=record)
    requester, said = ticket.get("requester_id"), []
    for number, comment in enumerate(comments):
        if not isinstance(comment, dict):
            raise DataFormatError(path, "each comment must be a JSON object", record=f"{record}.comments[{number}]")
        if comment.get("public") is False:
            continue
        author = comment.get("author_id")
        if requester is not None and author != requester:
            break
        text = normalize_text(str(comment.get("plain_body") or comment.get("body") or ""))
        if text and not is_greeting(text):
            said.append(text)
    return " ".join(said[:MAX_JOINED_MESSAGES]) or normalize_text(str(ticket.get("description") or ""))
