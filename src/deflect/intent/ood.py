"""Out-of-scope scores: how much a query looks like the intents the model was trained on (higher = more in scope).

- `confidence`: the calibrated probability of the best in-scope intent (maximum softmax probability).
- `energy`: T·logsumexp(logits/T) over the in-scope intents (Liu et al., 2020), which keeps the logits' scale that
  the softmax throws away.
- `knn`: mean cosine similarity to the k nearest training examples (Sun et al., 2022).
- `mahalanobis`: minus the smallest Mahalanobis distance to an intent's mean, with one shared covariance
  (Lee et al., 2018; Podolskiy et al., 2021).
- `combined`: the mean of the other scores, each turned into its percentile among in-scope validation queries, so
  no score's scale dominates and no out-of-scope data is needed to weigh them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deflect.intent.calibration import logsumexp, softmax

COMPONENTS = ("confidence", "energy", "knn", "mahalanobis")
SCORES = (*COMPONENTS, "combined")
AUTO = "auto"  # the score best for the threshold's objective on out-of-scope validation queries, else combined
OOD_FILE = "out_of_scope.npz"
SCORE_DESCRIPTIONS = {
    "confidence": "max calibrated in-scope probability",
    "energy": "energy over the in-scope logits",
    "knn": "mean cosine similarity to the nearest training examples",
    "mahalanobis": "minus the Mahalanobis distance to the nearest intent mean (shared covariance)",
    "combined": "mean percentile (among in-scope validation queries) of confidence, energy, kNN and Mahalanobis",
}


@dataclass
class EmbeddingReference:
    """What the distance scores compare a query with: training embeddings and per-intent Gaussian statistics."""

    examples: np.ndarray  # (n, dim) L2-normalised in-scope training embeddings
    means: np.ndarray  # (intents, dim)
    precision: np.ndarray  # (dim, dim) inverse of the shared covariance
    neighbours: int = 10

    def __post_init__(self) -> None:
        # the query-independent half of every Mahalanobis distance, computed once rather than per query
        self._projected_means = self.means @ self.precision
        self._mean_terms = np.einsum("cd,cd->c", self._projected_means, self.means)

    @classmethod
    def fit(cls, embeddings: np.ndarray, intents: np.ndarray, neighbours: int = 10) -> EmbeddingReference:
        labels = np.unique(intents)
        means = np.stack([embeddings[intents == label].mean(0) for label in labels])
        centred = embeddings - means[np.searchsorted(labels, intents)]
        covariance = centred.T @ centred / len(embeddings)
        shrinkage = 1e-3 * np.trace(covariance) / covariance.shape[0]  # keeps it invertible with few examples
        precision = np.linalg.inv(covariance + shrinkage * np.eye(covariance.shape[0]))
        return cls(embeddings.astype(np.float32), means.astype(np.float32), precision.astype(np.float32), neighbours)

    def knn(self, embeddings: np.ndarray) -> np.ndarray:
        """Mean cosine similarity to the k nearest training examples."""
        k = min(self.neighbours, len(self.examples))
        scores = np.empty(len(embeddings), dtype=np.float32)
        for start in range(0, len(embeddings), 1024):
            similarities = embeddings[start : start + 1024] @ self.examples.T
            scores[start : start + 1024] = -np.partition(-similarities, k - 1, axis=1)[:, :k].mean(1)
        return scores

    def distance_scores(self, embeddings: np.ndarray) -> dict[str, np.ndarray]:
        return {"knn": self.knn(embeddings), "mahalanobis": self.mahalanobis(embeddings)}

    def mahalanobis(self, embeddings: np.ndarray) -> np.ndarray:
        query_terms = np.einsum("nd,nd->n", embeddings @ self.precision, embeddings)
        distances = query_terms[:, None] - 2 * embeddings @ self._projected_means.T + self._mean_terms[None, :]
        return -distances.min(1)


def logit_scores(logits: np.ndarray, in_scope_columns: np.ndarray, temperature: float) -> dict[str, np.ndarray]:
    probabilities = softmax(logits / temperature, axis=1)[:, in_scope_columns]
    return {"confidence": probabilities.max(1), "energy": energy(logits[:, in_scope_columns], temperature)}


def energy(in_scope_logits: np.ndarray, temperature: float) -> np.ndarray:
    return temperature * logsumexp(in_scope_logits / temperature, axis=1)


@dataclass
class PercentileScale:
    """Maps a raw score to its percentile among in-scope validation scores (0–1)."""

    reference: np.ndarray  # sorted in-scope validation scores

    @classmethod
    def fit(cls, in_scope_scores: np.ndarray) -> PercentileScale:
        return cls(np.sort(np.asarray(in_scope_scores, dtype=np.float64)))

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.reference, scores, side="right") / len(self.reference)


@dataclass
class OutOfScopeScorer:
    """One in-scope score per query from the head's logits and the query embedding; `method` names which."""

    method: str
    temperature: float
    reference: EmbeddingReference
    scales: dict[str, PercentileScale] = field(default_factory=dict)

    def components(
        self, logits: np.ndarray, in_scope_columns: np.ndarray, embeddings: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Every component score; `logits` cover all the head's classes, out_of_scope included if trained."""
        return {
            **logit_scores(logits, in_scope_columns, self.temperature),
            **self.reference.distance_scores(embeddings),
        }

    def fit_scales(self, in_scope_components: dict[str, np.ndarray]) -> None:
        self.scales = {name: PercentileScale.fit(values) for name, values in in_scope_components.items()}

    def combine(self, components: dict[str, np.ndarray]) -> np.ndarray:
        if self.method != "combined":
            return components[self.method]
        return np.mean([self.scales[name](components[name]) for name in COMPONENTS], axis=0)

    def score(self, logits: np.ndarray, in_scope_columns: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        return self.combine(self.components(logits, in_scope_columns, embeddings))

    def save(self, folder: Path) -> None:
        arrays: dict[str, np.ndarray] = {
            "examples": self.reference.examples.astype(np.float16),
            "means": self.reference.means,
            "precision": self.reference.precision,
            "neighbours": np.array(self.reference.neighbours),
        }
        arrays.update({f"scale_{name}": scale.reference for name, scale in self.scales.items()})
        np.savez(folder / OOD_FILE, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, folder: Path, method: str, temperature: float) -> OutOfScopeScorer:
        with np.load(folder / OOD_FILE) as stored:
            reference = EmbeddingReference(
                stored["examples"].astype(np.float32), stored["means"], stored["precision"], int(stored["neighbours"])
            )
            scales = {
                name.removeprefix("scale_"): PercentileScale(stored[name])
                for name in stored.files
                if name.startswith("scale_")
            }
        return cls(method, temperature, reference, scales)


def auroc(in_scope_scores: np.ndarray, out_of_scope_scores: np.ndarray) -> float:
    """Probability that an in-scope query scores above an out-of-scope one (ties count half)."""
    from scipy.stats import rankdata  # evaluation only: serving processes never load scipy.stats

    ranks = rankdata(np.concatenate([in_scope_scores, out_of_scope_scores]))
    in_count, out_count = len(in_scope_scores), len(out_of_scope_scores)
    return float((ranks[:in_count].sum() - in_count * (in_count + 1) / 2) / (in_count * out_count))
