"""The held-out predictions a model is calibrated on: out-of-fold logits from cross-fitting, or a given validation
set's logits from a head trained without it; and the head and features both fit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from tqdm.auto import tqdm

from deflect.core.encoder import Encoder
from deflect.core.records import OUT_OF_SCOPE, Utterance
from deflect.intent.features import CharNgrams, FeatureSettings, head_features
from deflect.intent.ood import EmbeddingReference
from deflect.intent.passages import PassageEvidence

if TYPE_CHECKING:
    from deflect.training.trainer import TrainingArguments


def fit_head(features: Any, targets: np.ndarray, c: float, arguments: TrainingArguments) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=arguments.max_iter, random_state=arguments.seed).fit(features, targets)


def fit_features(
    embeddings: np.ndarray, texts: Sequence[str], settings: FeatureSettings
) -> tuple[Any, CharNgrams | None]:
    char_ngrams = CharNgrams.fit(texts, settings.ngram_range) if settings.char_ngrams else None
    return head_features(embeddings, texts, settings, char_ngrams), char_ngrams


def out_of_fold_logits(
    embeddings: np.ndarray,
    texts: list[str],
    targets: np.ndarray,
    class_count: int,
    c: float,
    folds: StratifiedKFold,
    arguments: TrainingArguments,
) -> np.ndarray:
    """Logits for every example from a head (and n-gram vocabulary) that never saw it."""
    logits = np.zeros((len(targets), class_count))
    for train_rows, held_out_rows in folds.split(embeddings, targets):
        train_texts = [texts[i] for i in train_rows]
        features, char_ngrams = fit_features(embeddings[train_rows], train_texts, arguments.features)
        head = fit_head(features, targets[train_rows], c, arguments)
        held_out = head_features(
            embeddings[held_out_rows], [texts[i] for i in held_out_rows], arguments.features, char_ngrams
        )
        logits[held_out_rows] = -1e4
        logits[np.ix_(held_out_rows, head.classes_)] = head.decision_function(held_out)
    return logits


@dataclass
class Validation:
    """Held-out logits and embeddings the calibration and thresholds are fitted on."""

    utterances: list[Utterance]
    logits: np.ndarray
    embeddings: np.ndarray
    distance_scores: dict[str, np.ndarray]  # kNN and Mahalanobis scores against data that excludes each row
    description: str

    def rows(self, rows: np.ndarray) -> Validation:
        return Validation(
            [self.utterances[i] for i in rows],
            self.logits[rows],
            self.embeddings[rows],
            {name: values[rows] for name, values in self.distance_scores.items()},
            f"{self.description}, calibrated on {len(rows)} of them",
        )


def validate_by_cross_fitting(
    embeddings: np.ndarray,
    texts: list[str],
    targets: np.ndarray,
    class_count: int,
    utterances: list[Utterance],
    arguments: TrainingArguments,
    counts: Counter,
) -> tuple[float, dict[float, float], Validation]:
    fold_count = max(2, min(arguments.folds, min(counts.values())))
    folds = StratifiedKFold(n_splits=fold_count, shuffle=True, random_state=arguments.seed)
    search = {}
    for c in tqdm(arguments.c_values, desc="choosing C by cross-fitting", unit="C"):
        logits = out_of_fold_logits(embeddings, texts, targets, class_count, c, folds, arguments)
        search[c] = (float(np.mean(logits.argmax(1) == targets)), logits)
    best_c = max(search, key=lambda c: (search[c][0], -c))
    in_scope = np.array([u.label != OUT_OF_SCOPE for u in utterances])
    distance_scores = {"knn": np.zeros(len(utterances)), "mahalanobis": np.zeros(len(utterances))}
    for train_rows, held_out_rows in folds.split(embeddings, targets):
        known_rows = train_rows[in_scope[train_rows]]
        reference = EmbeddingReference.fit(embeddings[known_rows], targets[known_rows], arguments.neighbours)
        for name, values in reference.distance_scores(embeddings[held_out_rows]).items():
            distance_scores[name][held_out_rows] = values
    description = f"{fold_count}-fold stratified cross-fitting on the training data (out-of-fold predictions)"
    validation = Validation(utterances, search[best_c][1], embeddings, distance_scores, description)
    return best_c, {c: accuracy for c, (accuracy, _) in search.items()}, validation


def validate_on_held_out(
    embeddings: np.ndarray,
    texts: list[str],
    targets: np.ndarray,
    classes: list[str],
    validation: list[Utterance],
    encoder: Encoder,
    reference: EmbeddingReference,
    arguments: TrainingArguments,
    passages: PassageEvidence | None,
) -> tuple[float, dict[float, float], Validation, LogisticRegression, CharNgrams | None]:
    validation_texts = [u.text for u in validation]
    validation_embeddings = encoder.encode(validation_texts, "query", show_progress=True)
    class_index = {name: i for i, name in enumerate(classes)}
    validation_targets = np.array([class_index.get(str(u.label), -1) for u in validation])
    known = validation_targets >= 0
    features, char_ngrams = fit_features(embeddings, texts, arguments.features)
    validation_features = head_features(validation_embeddings, validation_texts, arguments.features, char_ngrams)
    search: dict[float, tuple[float, LogisticRegression, np.ndarray]] = {}
    for c in tqdm(arguments.c_values, desc="choosing C on the validation set", unit="C"):
        head = fit_head(features, targets, c, arguments)
        logits = head.decision_function(validation_features)
        if passages is not None:
            logits = passages.fuse(logits, validation_embeddings)
        accuracy = float(np.mean(logits[known].argmax(1) == validation_targets[known]))
        search[c] = (accuracy, head, logits)
    best_c = max(search, key=lambda c: (search[c][0], -c))
    _, head, logits = search[best_c]
    description = f"the given validation set ({len(validation)} queries); the head is trained on the training set only"
    held_out = Validation(
        validation, logits, validation_embeddings, reference.distance_scores(validation_embeddings), description
    )
    return best_c, {c: accuracy for c, (accuracy, _, _) in search.items()}, held_out, head, char_ngrams
