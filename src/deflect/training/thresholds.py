"""Operating thresholds chosen on validation scores: when to reject as out-of-scope, when to answer."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from deflect.intent.model import clarify_options


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


@dataclass(frozen=True)
class ClarifyChoice:
    """When the bot asks instead of answering: a top-1 confidence of at least `floor` that is not answered, or an
    answerable one whose lead over the runner-up is below `margin`."""

    margin: float
    floor: float
    objective: str
    handled_share: float  # validation messages answered or clarified
    handled_accuracy: float  # of those: answered right, or clarified with the right intent among the options


def choose_clarify_band(
    probabilities: np.ndarray,
    intents: list[str],
    gold: list[str],
    accepted: np.ndarray,
    answer_threshold: float,
    target_accuracy: float,
    option_coverage: float,
    most_options: int,
) -> ClarifyChoice:
    """Where a question serves the customer better than what the bot would do otherwise, on validation data:

    - margin: answerable messages whose lead over the runner-up is below it are asked about instead. Asking pays
      when answering them would be right less than `target_accuracy` of the time: each wrong answer the question
      turns into the right option gains `target_accuracy`, each right answer it delays costs 1 − `target_accuracy`;
      the margin with the largest net gain (0 when none gains: every answerable message is answered);
    - floor: unanswerable (but in-scope) messages of at least this confidence are asked about instead of getting
      articles: the lowest floor at which the options hold the right intent for at least `target_accuracy` of them.

    A question costs the customer a turn, so neither band takes messages the bot answers well enough. `probabilities`:
    (messages, intents) calibrated in-scope probabilities; `accepted`: not rejected as out of scope."""
    order = np.argsort(-probabilities, axis=1)[:, :most_options]
    ranked = np.take_along_axis(probabilities, order, axis=1)
    confidences = ranked[:, 0]
    margins = ranked[:, 0] - ranked[:, 1] if ranked.shape[1] > 1 else ranked[:, 0]
    correct = np.array([intents[row[0]] == truth for row, truth in zip(order, gold, strict=True)])
    covered = np.array(
        [
            truth
            in clarify_options(
                [(intents[i], float(p)) for i, p in zip(row, shares, strict=True)], option_coverage, most_options
            )
            for row, shares, truth in zip(order, ranked, gold, strict=True)
        ]
    )
    accepted = np.asarray(accepted, dtype=bool)
    answerable = accepted & (confidences >= answer_threshold)
    margin, best_gain = 0.0, 0.0
    for candidate in np.round(np.arange(0.025, 1.0001, 0.025), 3):
        close = answerable & (margins < candidate)
        gain = target_accuracy * int((close & ~correct & covered).sum()) - (1 - target_accuracy) * int(
            (close & correct).sum()
        )
        if gain > best_gain + 1e-9:
            margin, best_gain = float(candidate), gain
    unanswerable = accepted & ~answerable
    by_confidence = np.argsort(-confidences[unanswerable])
    sorted_confidences = confidences[unanswerable][by_confidence]
    coverage_so_far = np.cumsum(covered[unanswerable][by_confidence]) / np.arange(1, len(by_confidence) + 1)
    # a floor takes every message of its confidence: only the last of a run of equal confidences is a boundary
    boundary = np.append(sorted_confidences[:-1] > sorted_confidences[1:], True)
    reaching = np.flatnonzero((coverage_so_far >= target_accuracy) & boundary)
    floor = float(sorted_confidences[reaching.max()]) if len(reaching) else 1.01
    asked = (answerable & (margins < margin)) | (unanswerable & (confidences >= floor))
    answered = answerable & ~asked
    handled = int(answered.sum() + asked.sum())
    right = int((answered & correct).sum() + (asked & covered).sum())
    objective = (
        f"ask where answering is right less than {target_accuracy:.0%} of the time on validation, and below the "
        f"answer threshold where the options hold the right intent at least that often"
    )
    return ClarifyChoice(margin, floor, objective, handled / max(len(confidences), 1), right / max(handled, 1))
