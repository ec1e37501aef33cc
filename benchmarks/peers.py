"""Peer methods run beside Deflect in the intent benchmark, on the same splits: TF-IDF + logistic regression, and
SetFit (contrastive fine-tuning of a sentence encoder, then a logistic-regression head) from the `setfit` package.

Each peer trains in a fresh child process, so its wall time and peak memory are its own. Peers reject
out-of-scope queries the usual way, by maximum softmax probability (MSP) under a threshold chosen on validation
data for the same objective as Deflect's."""

from __future__ import annotations

import math
import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from deflect.core.records import OUT_OF_SCOPE, Utterance
from deflect.intent.metrics import in_scope_macro_f1, intent_metrics, open_class_metrics
from deflect.intent.ood import auroc

SETFIT_BASE = "minilm"  # the packaged all-MiniLM-L6-v2, SetFit's usual base model
SETFIT_BATCH_SIZE = 16
OUT_OF_FOLD = "out_of_fold"  # the name under which a peer returns cross-fitted probabilities on its training data


@dataclass
class PeerRun:
    """What a peer hands back: its classes, class probabilities for each named text set, and its cost."""

    classes: list[str]
    probabilities: dict[str, np.ndarray]
    wall_seconds: float
    peak_memory_mib: int


def tfidf_logistic_regression(
    train: list[Utterance], evaluate: dict[str, list[str]], seed: int, out_of_fold: bool = False
) -> tuple[list[str], dict[str, np.ndarray]]:
    """Word 1–2-grams and character 2–5-grams within words, TF-IDF, logistic regression (C=10). With `out_of_fold`,
    also 5-fold cross-fitted probabilities on the training data (for a threshold when there is no validation set)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    def fit(texts: list[str], labels: list[str]) -> Callable[[list[str]], np.ndarray]:
        words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(texts)
        characters = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True).fit(texts)

        def features(batch: list[str]) -> Any:
            return hstack([words.transform(batch), characters.transform(batch)], format="csr")

        head = LogisticRegression(C=10.0, max_iter=3000, random_state=seed).fit(features(texts), labels)
        return lambda batch: head.predict_proba(features(batch))

    texts, labels = [u.text for u in train], [str(u.label) for u in train]
    classes = sorted(set(labels))
    predict = fit(texts, labels)
    probabilities = {name: predict(batch) for name, batch in evaluate.items()}
    if out_of_fold:
        held_out = np.zeros((len(texts), len(classes)))
        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
        for fitted, scored in folds.split(texts, labels):
            predict_fold = fit([texts[i] for i in fitted], [labels[i] for i in fitted])
            held_out[scored] = predict_fold([texts[i] for i in scored])
        probabilities[OUT_OF_FOLD] = held_out
    return classes, probabilities


def setfit_classifier(
    train: list[Utterance], evaluate: dict[str, list[str]], seed: int, max_pairs: int, base: str = SETFIT_BASE
) -> tuple[list[str], dict[str, np.ndarray]]:
    """SetFit 1.x with its defaults (cosine-similarity loss on sampled pairs, logistic-regression head), the pair
    budget bounded by `max_pairs` so that full-data training ends in bounded time on a CPU."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    from deflect.encoders.models import resolve_model_path

    model = SetFitModel.from_pretrained(resolve_model_path(base), device="cpu")
    arguments = TrainingArguments(
        batch_size=SETFIT_BATCH_SIZE,
        num_epochs=1,
        max_steps=max(1, max_pairs // SETFIT_BATCH_SIZE),
        seed=seed,
        report_to="none",
        save_strategy="no",
        show_progress_bar=False,
    )
    dataset = Dataset.from_dict({"text": [u.text for u in train], "label": [str(u.label) for u in train]})
    Trainer(model=model, args=arguments, train_dataset=dataset).train()
    classes = [str(c) for c in model.model_head.classes_]
    return classes, {name: np.asarray(model.predict_proba(batch, as_numpy=True)) for name, batch in evaluate.items()}


def _measured(peer: Callable[..., tuple[list[str], dict[str, np.ndarray]]], arguments: tuple, queue: Any) -> None:
    started = time.perf_counter()
    try:
        classes, probabilities = peer(*arguments)
    except Exception as error:  # reported in the benchmark's output, never hidden
        queue.put({"error": f"{type(error).__name__}: {error}"})
        return
    peak = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    queue.put(PeerRun(classes, probabilities, round(time.perf_counter() - started, 1), peak))


def run_peer(peer: Callable[..., tuple[list[str], dict[str, np.ndarray]]], *arguments: Any) -> PeerRun:
    """`peer(*arguments)` in a spawned child process, with its wall time and peak memory."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_measured, args=(peer, arguments, queue))
    process.start()
    result = queue.get()
    process.join()
    if isinstance(result, dict):
        raise RuntimeError(f"peer {peer.__name__} failed: {result['error']}")
    return result


def msp_threshold_for_recall(confidences: np.ndarray, target_recall: float) -> float:
    """The MSP threshold that rejects at least `target_recall` of these out-of-scope queries (reject if ≤)."""
    ordered = np.sort(confidences)
    return float(ordered[max(0, math.ceil(target_recall * len(ordered)) - 1)])


def msp_threshold_for_false_rejection(confidences: np.ndarray, max_false_rejection: float) -> float:
    """The MSP threshold that rejects at most `max_false_rejection` of these in-scope queries (reject if ≤)."""
    ordered = np.sort(confidences)
    index = math.floor(max_false_rejection * len(ordered)) - 1
    return float(ordered[index]) if index >= 0 else float(ordered[0]) - 1e-9


def peer_figures(run: PeerRun, name: str, test: list[Utterance], threshold: float | None = None) -> dict[str, Any]:
    """Accuracy and macro-F1 over the in-scope test queries; with out-of-scope queries the MSP AUROC; with a
    threshold, the figures after rejection (as Deflect's) and accuracy and macro-F1 over known intents + open."""
    probabilities = run.probabilities[name]
    classes = run.classes
    predicted = [classes[i] for i in probabilities.argmax(1)]
    gold = [str(u.label) for u in test]
    in_scope = [i for i, g in enumerate(gold) if g != OUT_OF_SCOPE]
    figures: dict[str, Any] = {
        "accuracy_before_rejection": float(np.mean([predicted[i] == gold[i] for i in in_scope])),
        "macro_f1_before_rejection": in_scope_macro_f1(gold, predicted),
        "wall_seconds": run.wall_seconds,
        "peak_memory_mib": run.peak_memory_mib,
    }
    confidence = probabilities.max(1)
    is_out = np.array([g == OUT_OF_SCOPE for g in gold])
    if is_out.any():
        figures["out_of_scope_auroc"] = auroc(confidence[~is_out], confidence[is_out])
    if threshold is not None:
        rejected = [bool(c <= threshold) for c in confidence]
        figures["threshold"] = threshold
        figures.update(
            {k: v for k, v in intent_metrics(gold, predicted, rejected).items() if k != "accuracy_before_rejection"}
        )
        figures.update(open_class_metrics(gold, predicted, rejected))
    return figures
