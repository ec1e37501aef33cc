"""Group messages by what they ask, with the number of groups chosen by the data.

1. **Vectors**: the encoder's unit vectors, centred on their language's mean and scaled back to unit length
   (sentence encoders put every text in a narrow cone, and each language in a cone of its own; centring spreads
   the cone, so cosine tells intents apart better, and brings Korean and English askers of one intent together).
2. **Neighbour pooling**: each vector is averaged with its 10 nearest neighbours' (fewer than the smallest cluster)
   for the density step. Messages of one intent then form a dense core instead of a loose cloud, while the few
   between two intents stay between.
3. **The number of clusters (the criterion)**: HDBSCAN over the pooled vectors keeps the clusters of its density
   tree that are most *stable* (excess of mass: they persist over the widest range of density levels), counting
   only groups of at least `min_cluster_size` messages, the smallest intent worth proposing. Its count is k.
4. **Assignment**: k-means over the centred vectors, started from the means of those dense clusters, gives every
   message a cluster (HDBSCAN alone leaves a quarter to half of the messages unassigned).
5. **Noise**: a message whose cluster is shared by fewer than 30% of its 10 nearest neighbours sits between
   intents; it is marked -1, kept out of its cluster's description.

Measured on BANKING77 and CLINC150 training texts (benchmarks/discovery_benchmark.py): silhouette, Calinski–
Harabasz and Davies–Bouldin rose or fell steadily with k and never peaked near the true count, so none of them
picks k; HDBSCAN's count came within 20% of it, and the assignment step beat plain k-means given the true count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import faiss
import numpy as np
from sklearn.cluster import HDBSCAN, KMeans

NOISE = -1


@dataclass(frozen=True)
class ClusteringSettings:
    # Chosen on BANKING77 and CLINC150 training texts (30–40 messages per intent), never their test splits.
    min_cluster_size: int = 12
    min_samples: int = 3
    neighbours: int = 10
    noise_agreement: float = 0.3
    seed: int = 13


@dataclass(frozen=True)
class Clustering:
    labels: np.ndarray  # one cluster id per message, NOISE for the messages between clusters
    assigned: np.ndarray  # the cluster of every message, noise included
    k: int
    dense_share: float  # share of messages HDBSCAN put in a dense cluster


def criterion(settings: ClusteringSettings) -> str:
    """How k was chosen and noise marked, in words, for the clusters file."""
    return (
        f"HDBSCAN (min_samples {settings.min_samples}) over vectors pooled with their {settings.neighbours} "
        f"nearest neighbours: the most stable clusters of at least {settings.min_cluster_size} messages give k; "
        "k-means started from their means assigns every message; a message sharing its cluster with fewer than "
        f"{settings.noise_agreement:.0%} of its {settings.neighbours} nearest neighbours is noise (-1)"
    )


def centred(vectors: np.ndarray, locales: Sequence[str] | None = None, smallest: int = 2) -> np.ndarray:
    """Each locale's vectors centred on their own mean: what sets a language's mean apart is mostly the language,
    so once it is taken away a Korean and an English message asking the same thing meet in one cluster. A locale
    with fewer than `smallest` messages (too few to make a cluster of their own) is centred on the mean of all."""
    vectors = np.asarray(vectors, dtype=np.float32)
    shifted = vectors - vectors.mean(axis=0)
    groups = np.asarray(locales) if locales is not None else np.zeros(len(vectors))
    for group in np.unique(groups):
        rows = groups == group
        if smallest <= rows.sum() < len(vectors):
            shifted[rows] = vectors[rows] - vectors[rows].mean(axis=0)
    return _unit(shifted)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.where(norms == 0, 1.0, norms), dtype=np.float32)


def nearest_neighbours(vectors: np.ndarray, count: int) -> np.ndarray:
    """Each message's `count` nearest others by cosine (exact inner-product search, blockwise inside FAISS)."""
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    found = min(count + 1, len(vectors))
    _, neighbours = index.search(vectors, found)
    own = neighbours == np.arange(len(vectors))[:, None]
    # drop each message itself (where a duplicate text ranks first, drop the last neighbour instead)
    keep = ~own
    keep[~own.any(axis=1), -1] = False
    return neighbours[keep].reshape(len(vectors), found - 1)


def pooled(vectors: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    return _unit(vectors[neighbours].sum(axis=1) + vectors)


def kmeans_from(vectors: np.ndarray, starts: np.ndarray, seed: int) -> np.ndarray:
    model = KMeans(n_clusters=len(starts), init=starts, n_init=1, random_state=seed)
    return np.asarray(model.fit_predict(vectors))


def cluster_vectors(
    vectors: np.ndarray, locales: Sequence[str] | None = None, settings: ClusteringSettings | None = None
) -> Clustering:
    """Clusters of unit vectors (of messages in `locales`), k chosen by the density criterion above."""
    settings = settings or ClusteringSettings()
    count = len(vectors)
    if count < 2 * settings.min_cluster_size:
        raise ValueError(
            f"{count} messages are too few to find intents of at least {settings.min_cluster_size} messages"
        )
    spread = centred(vectors, locales, settings.min_cluster_size)
    # fewer neighbours than the smallest cluster, or pooling would blend small intents into their neighbours
    neighbours = nearest_neighbours(spread, min(settings.neighbours, settings.min_cluster_size - 1, count - 1))
    density = HDBSCAN(min_cluster_size=settings.min_cluster_size, min_samples=settings.min_samples, copy=True)
    dense = np.asarray(density.fit_predict(pooled(spread, neighbours)))
    k = int(dense.max()) + 1
    if k < 2:
        # one dense group or none: no structure to split on, every message is one cluster
        assigned = np.zeros(count, dtype=int)
        return Clustering(assigned, assigned, 1, float((dense >= 0).mean()))
    starts = _unit(np.stack([spread[dense == cluster].mean(axis=0) for cluster in range(k)]))
    assigned = _renumbered_by_size(kmeans_from(spread, starts, settings.seed))
    agreement = (assigned[neighbours] == assigned[:, None]).mean(axis=1)
    labels = np.where(agreement < settings.noise_agreement, NOISE, assigned)
    return Clustering(labels, assigned, int(assigned.max()) + 1, float((dense >= 0).mean()))


def _renumbered_by_size(assigned: np.ndarray) -> np.ndarray:
    """Cluster 0 the largest, and no id left empty."""
    ids, counts = np.unique(assigned, return_counts=True)
    order = ids[np.argsort(-counts, kind="stable")]
    renumber = np.empty(assigned.max() + 1, dtype=int)
    renumber[order] = np.arange(len(order))
    return renumber[assigned]
