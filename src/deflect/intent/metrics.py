"""Intent metrics with the out-of-scope protocol of CLINC150: a rejected in-scope query counts as wrong."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from deflect.core.records import OUT_OF_SCOPE


def intent_metrics(gold: Sequence[str], predicted: Sequence[str], rejected: Sequence[bool]) -> dict[str, float]:
    """`predicted` is the best in-scope intent; `rejected` says whether the query was judged out of scope."""
    gold_array = np.asarray(gold, dtype=object)
    predicted_array = np.asarray(predicted, dtype=object)
    rejected_array = np.asarray(rejected, dtype=bool)
    is_out = gold_array == OUT_OF_SCOPE
    in_scope = ~is_out
    metrics: dict[str, float] = {"examples": float(len(gold_array)), "out_of_scope_examples": float(is_out.sum())}
    if in_scope.any():
        right = predicted_array[in_scope] == gold_array[in_scope]
        metrics["accuracy_before_rejection"] = float(right.mean())
        metrics["in_scope_accuracy"] = float((right & ~rejected_array[in_scope]).mean())
        metrics["in_scope_rejection_rate"] = float(rejected_array[in_scope].mean())
    if is_out.any():
        metrics["out_of_scope_recall"] = float(rejected_array[is_out].mean())
        if rejected_array.any():
            metrics["out_of_scope_precision"] = float(is_out[rejected_array].mean())
    return metrics


def in_scope_macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-F1 over the in-scope queries, before any rejection."""
    from sklearn.metrics import f1_score

    kept = [i for i, g in enumerate(gold) if g != OUT_OF_SCOPE]
    return float(f1_score([gold[i] for i in kept], [predicted[i] for i in kept], average="macro"))


def open_class_metrics(gold: Sequence[str], predicted: Sequence[str], rejected: Sequence[bool]) -> dict[str, float]:
    """Accuracy and macro-F1 over the known intents plus one open class, as in the open-intent literature (ADB)."""
    from sklearn.metrics import f1_score

    truth = [g if g != OUT_OF_SCOPE else "open" for g in gold]
    decided = ["open" if r else p for p, r in zip(predicted, rejected, strict=True)]
    return {
        "open_accuracy": float(np.mean([a == b for a, b in zip(truth, decided, strict=True)])),
        "open_macro_f1": float(f1_score(truth, decided, average="macro")),
    }
