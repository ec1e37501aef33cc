"""Temperature scaling, the expected calibration error it is judged by, and the numpy softmax serving uses."""

from __future__ import annotations

import numpy as np


def logsumexp(values: np.ndarray, axis: int = 1) -> np.ndarray:
    top = np.max(values, axis=axis, keepdims=True)
    return np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(values - top), axis=axis))


def log_softmax(values: np.ndarray, axis: int = 1) -> np.ndarray:
    return values - np.expand_dims(logsumexp(values, axis=axis), axis)


def softmax(values: np.ndarray, axis: int = 1) -> np.ndarray:
    return np.exp(log_softmax(values, axis=axis))


def softmax_with_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    return softmax(logits / temperature, axis=1)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of held-out logits (Guo et al., 2017)."""
    from scipy.optimize import minimize_scalar  # training only: serving processes never load scipy.optimize

    def negative_log_likelihood(log_temperature: float) -> float:
        log_probs = log_softmax(logits / np.exp(log_temperature), axis=1)
        return float(-log_probs[np.arange(len(labels)), labels].mean())

    result = minimize_scalar(negative_log_likelihood, bounds=(-3.0, 3.0), method="bounded")
    return float(np.exp(result.x))


def expected_calibration_error(confidences: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """Weighted mean gap between confidence and accuracy over equal-width confidence bins."""
    confidences = np.asarray(confidences, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if len(confidences) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    bin_ids = np.clip(np.digitize(confidences, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for index in range(bins):
        members = bin_ids == index
        if members.any():
            error += members.mean() * abs(confidences[members].mean() - correct[members].mean())
    return float(error)
