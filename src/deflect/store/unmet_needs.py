"""Unmet needs: what customers ask that the model does not cover. Out-of-scope and low-confidence messages from the
review queue are embedded with the served encoder, centred on the mean embedding of the help center's article
titles (sentence encoders put every text in one narrow cone; centring spreads the cone so cosine distance tells
topics apart), and grouped by average-linkage agglomerative clustering on cosine distance; each
group of at least two comes with its most central messages and its most distinctive words, so a reviewer can name
it and turn it into a new intent in one step."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

WORD = re.compile(r"[0-9A-Za-z\uac00-\ud7a3]{2,}")
# Function words that say nothing about a topic (the Korean ones are common endings and particles left on words).
_STOPWORD_TEXT = (
    "the and for you your can how what when where why are was is "
    "it my me i to of in on a an do does did with this that have "
    "has not please there want need 있나요 있어요 해요 하나요 어떻게 어디 언제 그리고 "
    "그런데 제가 저는 좀 왜 수 있을까요 되나요 싶어요 주세요 합니다 했어요 했는데"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


class ClusteredMessage(Protocol):
    """What clustering reads of a message: a queue entry, or a customer question that found no article."""

    @property
    def id(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def locale(self) -> str: ...
    @property
    def out_of_scope(self) -> bool: ...


@dataclass(frozen=True)
class NeedCluster:
    id: int
    size: int
    item_ids: list[int]
    examples: list[str]  # the most central messages first
    terms: list[str]  # words frequent in this cluster and rare elsewhere
    locales: dict[str, int]
    out_of_scope_share: float


def _terms(texts: Sequence[str], background: Counter[str], limit: int = 5) -> list[str]:
    counts = Counter(word for text in texts for word in {w.lower() for w in WORD.findall(text)})
    scored = [
        (count / len(texts) - background[word] / max(sum(background.values()), 1), word)
        for word, count in counts.items()
        if word not in STOPWORDS and count >= 2
    ]
    return [word for _, word in sorted(scored, reverse=True)[:limit]]


def cluster_needs(
    entries: Sequence[ClusteredMessage],
    vectors: np.ndarray,
    reference: np.ndarray,
    distance_threshold: float,
    min_size: int = 2,
    examples: int = 3,
) -> list[NeedCluster]:
    """Clusters of at least `min_size` entries, largest first. `vectors` are the entries' embeddings, `reference`
    the vector to centre them on."""
    if not entries or len(entries) < min_size:
        return []
    vectors = vectors - reference
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    if len(entries) == 1:  # a linkage needs two; one message is a group of its own
        labels = np.ones(1, dtype=int)
    else:
        tree = linkage(vectors, method="average", metric="cosine")
        labels = fcluster(tree, distance_threshold, criterion="distance")
    background = Counter(word for entry in entries for word in {w.lower() for w in WORD.findall(entry.text)})
    clusters = []
    for label in set(labels.tolist()):
        members = np.flatnonzero(labels == label).tolist()
        if len(members) < min_size:
            continue
        centroid = vectors[members].mean(axis=0)
        central = [members[i] for i in np.argsort(-(vectors[members] @ centroid)).tolist()]
        texts = [entries[i].text for i in members]
        clusters.append(
            NeedCluster(
                id=0,
                size=len(members),
                item_ids=[entries[i].id for i in central],
                examples=list(dict.fromkeys(entries[i].text for i in central))[:examples],
                terms=_terms(texts, background),
                locales=dict(Counter(entries[i].locale for i in members)),
                out_of_scope_share=round(float(np.mean([entries[i].out_of_scope for i in members])), 3),
            )
        )
    clusters.sort(key=lambda cluster: (-cluster.size, cluster.examples[0]))
    return [
        NeedCluster(number, c.size, c.item_ids, c.examples, c.terms, c.locales, c.out_of_scope_share)
        for number, c in enumerate(clusters, start=1)
    ]
