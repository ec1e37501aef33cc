"""The peers of the intent benchmark, on a small slice of BANKING77: they train in a child process, report their
cost, and reject by maximum softmax probability under thresholds with the stated objectives."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.peers import (
    OUT_OF_FOLD,
    msp_threshold_for_false_rejection,
    msp_threshold_for_recall,
    peer_figures,
    run_peer,
    tfidf_logistic_regression,
)
from deflect.core.records import OUT_OF_SCOPE, Utterance
from deflect.ingest.utterances import load_banking77


def _slice(utterances: list[Utterance], intents: set[str], per_intent: int) -> list[Utterance]:
    taken: dict[str, int] = {}
    chosen = []
    for utterance in utterances:
        label = str(utterance.label)
        if label in intents and taken.get(label, 0) < per_intent:
            taken[label] = taken.get(label, 0) + 1
            chosen.append(utterance)
    return chosen


def test_tfidf_peer_classifies_and_rejects_held_out_intents(shared_datasets: Path) -> None:
    train = load_banking77(shared_datasets / "banking77", "train")
    test = load_banking77(shared_datasets / "banking77", "test")
    intents = sorted({str(u.label) for u in train})
    known, unknown = set(intents[:6]), set(intents[6:9])
    known_train = _slice(train, known, 40)
    relabelled = [
        Utterance(u.text, u.label if u.label in known else OUT_OF_SCOPE, u.locale)
        for u in _slice(test, known | unknown, 20)
    ]

    run = run_peer(tfidf_logistic_regression, known_train, {"test": [u.text for u in relabelled]}, 0, True)

    assert run.classes == sorted(known) and run.wall_seconds > 0 and run.peak_memory_mib > 0
    assert run.probabilities[OUT_OF_FOLD].shape == (len(known_train), 6)
    threshold = msp_threshold_for_false_rejection(run.probabilities[OUT_OF_FOLD].max(1), 0.05)
    figures = peer_figures(run, "test", relabelled, threshold)
    assert figures["accuracy_before_rejection"] > 0.8
    assert 0.5 < figures["out_of_scope_auroc"] <= 1.0
    assert {"in_scope_accuracy", "out_of_scope_recall", "open_accuracy", "open_macro_f1"} <= set(figures)


def test_msp_thresholds_meet_their_objective() -> None:
    confidences = np.linspace(0.1, 1.0, 100)

    recall_threshold = msp_threshold_for_recall(confidences, 0.9)
    assert np.mean(confidences <= recall_threshold) >= 0.9
    assert np.mean(confidences <= recall_threshold - 1e-6) < 0.9

    rejection_threshold = msp_threshold_for_false_rejection(confidences, 0.05)
    assert np.mean(confidences <= rejection_threshold) <= 0.05
    assert msp_threshold_for_false_rejection(confidences[:10], 0.05) < confidences.min()
