"""The conversation evaluation set (data/benchmarks/conversations/) and the benchmark that plays it: the set is
well formed and big enough, a malformed line is named by file and line, and a conversation played through the real
service is tallied as the benchmark reports it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.conversation_benchmark import Player, Tally
from benchmarks.paths import CONVERSATIONS
from deflect.conversation.suggester import Suggester
from deflect.core.demo import DEMO_DIR
from deflect.core.errors import DataFormatError
from deflect.core.settings import Settings
from deflect.ingest.conversations import LabelledConversation, LabelledTurn, evaluation_set, read_conversations
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex

DEMO_INTENTS = frozenset(json.loads((DEMO_DIR / "intents.json").read_text(encoding="utf-8")))


def test_the_set_holds_300_conversations_of_both_languages_with_a_fixed_test_part() -> None:
    conversations, between = evaluation_set(CONVERSATIONS, DEMO_INTENTS, split=None)

    assert len(conversations) >= 300 and len(between) >= 100
    assert {c.locale for c in conversations} == {"ko", "en"}
    test_share = sum(c.split == "test" for c in conversations) / len(conversations)
    assert 0.55 <= test_share <= 0.65
    kinds = Counter(turn.kind for c in conversations for turn in c.turns)
    assert all(kinds[kind] >= 30 for kind in ("follow_up", "correction", "confirmation", "detail", "new_topic"))
    openings = {c.turns[0].intent for c in conversations}
    assert openings >= DEMO_INTENTS
    numbers = [d for c in conversations for t in c.turns for d in t.details if d.kind == "order_number"]
    assert len(numbers) >= 100


def test_a_malformed_line_is_named_by_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "ko.jsonl"
    good = {
        "id": "k1",
        "locale": "ko",
        "split": "test",
        "turns": [{"text": "환불 언제 돼요", "intent": "refund_status"}] * 2,
    }
    bad = {
        **good,
        "id": "k2",
        "turns": [
            {"text": "주문번호 123", "intent": "refund_status", "details": [{"kind": "order_number", "value": "999"}]}
        ]
        * 2,
    }
    path.write_text(json.dumps(good, ensure_ascii=False) + "\n" + json.dumps(bad, ensure_ascii=False) + "\n", "utf-8")

    with pytest.raises(DataFormatError, match=r"ko\.jsonl, line 2: turn 1: detail '999' is not in the text"):
        read_conversations(path, DEMO_INTENTS)


def test_a_played_conversation_is_tallied_turn_by_turn(demo_model: IntentModel, demo_index: ArticleIndex) -> None:
    settings = Settings(clarify=False, context=False)  # each message alone: the tally, not the reading, is tested
    player = Player(Suggester(demo_model, demo_index, settings), settings, behaviour=None)
    conversation = LabelledConversation(
        "t-1",
        "ko",
        "test",
        (
            LabelledTurn("택배가 어디에 있나요?", "delivery_status", "opening", False),
            LabelledTurn("비밀번호를 잊어버렸어요", "password_reset", "new_topic", False),
        ),
    )
    tally = Tally()

    player.play(conversation, tally, "test")

    assert tally.conversations == 1 and tally.answered_turns == 2 and tally.wrong_answers == 0
    assert tally.resolved == 1 and tally.messages_in_resolved == 2 and tally.handed_off == 0
