"""Benchmark protocols over labelled utterances: open-intent splits and few-shot samples, seeded."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from deflect.core.records import OUT_OF_SCOPE, Utterance


def open_intent_split(
    train: list[Utterance], test: list[Utterance], known_share: float, seed: int
) -> tuple[list[Utterance], list[Utterance], list[str]]:
    """Keep a seeded `known_share` of the intents for training; the test queries of the others become
    out-of-scope (Zhang et al., 2021). Returns the known-intent training set, the relabelled test set and the
    known intents."""
    intents = sorted({str(u.label) for u in train if u.label != OUT_OF_SCOPE})
    rng = np.random.default_rng(seed)
    known = sorted(rng.choice(intents, size=round(known_share * len(intents)), replace=False).tolist())
    known_set = set(known)
    known_train = [u for u in train if u.label in known_set]
    relabelled = [u if u.label in known_set else Utterance(u.text, OUT_OF_SCOPE, u.locale) for u in test]
    return known_train, relabelled, known


def few_shot(train: list[Utterance], per_intent: int, seed: int) -> list[Utterance]:
    """A seeded sample of `per_intent` examples of every intent (all of an intent's examples if it has fewer)."""
    by_intent: dict[str | None, list[Utterance]] = defaultdict(list)
    for utterance in train:
        by_intent[utterance.label].append(utterance)
    rng = np.random.default_rng(seed)
    sample: list[Utterance] = []
    for label in sorted(by_intent, key=str):
        examples = by_intent[label]
        chosen = rng.permutation(len(examples))[:per_intent]
        sample.extend(examples[i] for i in sorted(chosen))
    return sample
