"""Operating thresholds chosen on validation scores: when to reject as out-of-scope, when to answer."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ThresholdChoice:
    threshold: float
    objective: str


def choose_out_of_scope_threshold(
    scores: np.ndarray,
    is_out_of_scope: np.ndarray,
    correct: np.ndarray,
    max_false_rejection: float,
    target_recall: float | None = None,
) -> ThresholdChoice:
    """Reject when the in-scope score falls below the threshold.

    With out-of-scope examples in validation and no `target_recall`: maximise validation accuracy with
    out-of-scope treated as one more intent (the CLINC150 paper's criterion): an in-scope query counts when
    accepted with the right intent, an out-of-scope one when rejected. With `target_recall`: the lowest threshold
    that rejects at least that share of them, which keeps the most in-scope queries. Without out-of-scope
    examples: reject at most `max_false_rejection` of in-scope queries.
    """
    scores = np.asarray(scores, dtype=float)
    is_out_of_scope = np.asarray(is_out_of_scope, dtype=bool)
    correct = np.asarray(correct, dtype=bool)
    in_scope_scores = scores[~is_out_of_scope]
    if not is_out_of_scope.any():
        threshold = float(np.quantile(in_scope_scores, max_false_rejection))
        return ThresholdChoice(threshold, f"reject at most {max_false_rejection:.0%} of in-scope validation queries")
    out_scores = np.sort(scores[is_out_of_scope])
    if target_recall is not None:
        must_reject = min(len(out_scores), math.ceil(target_recall * len(out_scores) - 1e-9))
        threshold = float(np.nextafter(out_scores[must_reject - 1], np.inf)) if must_reject else float(out_scores[0])
        return ThresholdChoice(
            threshold, f"reject at least {target_recall:.0%} of out-of-scope validation queries, keep the most in scope"
        )
    candidates = np.unique(np.concatenate([[0.0], scores]))
    right_in_scope = np.sort(in_scope_scores[correct[~is_out_of_scope]])
    # For each candidate t: in-scope right answers with score >= t, plus out-of-scope queries with score < t.
    accepted_right = len(right_in_scope) - np.searchsorted(right_in_scope, candidates, side="left")
    rejected_out = np.searchsorted(out_scores, candidates, side="left")
    best = int(np.argmax(accepted_right + rejected_out))
    # Sit halfway to the next score down: the same validation decisions, with a margin on both sides.
    threshold = float((candidates[best] + candidates[best - 1]) / 2) if best > 0 else float(candidates[best])
    return ThresholdChoice(threshold, "maximise validation accuracy with out-of-scope as its own class")


def choose_answer_threshold(scores: np.ndarray, answered_correctly: np.ndarray, target_precision: float) -> float:
    """Lowest score above which at least `target_precision` of answers would be right (1.0 if never reached)."""
    scores = np.asarray(scores, dtype=float)
    answered_correctly = np.asarray(answered_correctly, dtype=bool)
    order = np.argsort(-scores)
    sorted_scores = scores[order]
    precision = np.cumsum(answered_correctly[order]) / np.arange(1, len(scores) + 1)
    reaching = np.nonzero(precision >= target_precision)[0]
    if len(reaching) == 0:
        return 1.0
    return float(sorted_scores[reaching.max()])
