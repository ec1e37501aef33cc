"""The benchmark protocols on the shared BANKING77 data: open-intent splits and few-shot samples are seeded."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from benchmarks.embedding_cache import CachedEncoder
from benchmarks.protocols import few_shot, open_intent_split
from deflect.core.records import OUT_OF_SCOPE
from deflect.ingest.utterances import load_banking77


def test_open_intent_split_holds_out_a_quarter_of_the_intents(shared_datasets: Path) -> None:
    train = load_banking77(shared_datasets / "banking77", "train")
    test = load_banking77(shared_datasets / "banking77", "test")

    known_train, relabelled, known = open_intent_split(train, test, known_share=0.75, seed=0)

    assert len(known) == 58 and {u.label for u in known_train} == set(known)
    assert len(relabelled) == len(test)
    unknown_test = [u for u, original in zip(relabelled, test, strict=True) if original.label not in known]
    assert unknown_test and all(u.label == OUT_OF_SCOPE for u in unknown_test)
    assert open_intent_split(train, test, 0.75, seed=0)[2] == known != open_intent_split(train, test, 0.75, seed=1)[2]


def test_few_shot_takes_the_same_number_of_every_intent(shared_datasets: Path) -> None:
    train = load_banking77(shared_datasets / "banking77", "train")

    sample = few_shot(train, per_intent=10, seed=0)

    assert set(Counter(u.label for u in sample).values()) == {10}
    assert sample == few_shot(train, per_intent=10, seed=0)


class CountingEncoder:
    reference = "counting"
    dim = 2

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts, kind="query", *, show_progress=False):  # type: ignore[no-untyped-def]
        self.encoded.extend(texts)
        return np.array([[len(text), 1.0] for text in texts], dtype=np.float32)


def test_cached_encoder_encodes_each_text_once() -> None:
    inner = CountingEncoder()
    cached = CachedEncoder(inner)

    first = cached.encode(["a", "bb", "a"])
    second = cached.encode(["bb", "ccc"])

    assert inner.encoded == ["a", "bb", "ccc"]
    assert first.tolist() == [[1, 1], [2, 1], [1, 1]] and second.tolist() == [[2, 1], [3, 1]]
