"""The `deflect index` recipe: load articles, skip if up to date, embed chunks, save the index folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deflect.data.articles import load_articles
from deflect.retrieval.index import ArticleIndex, ChunkingSettings, articles_fingerprint
from deflect.retrieval.vectors import VectorIndexSettings
from deflect.training.artifact import manifest_fingerprint, staged_folder
from deflect.training.encoders import load_encoder


@dataclass
class IndexOutcome:
    folder: Path
    skipped: bool
    articles: int
    chunks: int | None
    kind: str | None = None


def run_indexing(
    articles_source: str | Path,
    out: str | Path,
    encoder_reference: str,
    *,
    chunking: ChunkingSettings | None = None,
    vector_settings: VectorIndexSettings | None = None,
    force: bool = False,
) -> IndexOutcome:
    out = Path(out)
    chunking = chunking or ChunkingSettings()
    vector_settings = vector_settings or VectorIndexSettings()
    articles = load_articles(articles_source)
    if not force and manifest_fingerprint(out) == articles_fingerprint(
        articles, encoder_reference, chunking, vector_settings
    ):
        return IndexOutcome(out, skipped=True, articles=len(articles), chunks=None)
    index = ArticleIndex.build(
        articles, load_encoder(encoder_reference), chunking, vector_settings, source=str(articles_source)
    )
    with staged_folder(out) as staging:
        index.save(staging)
    return IndexOutcome(out, False, len(articles), len(index.chunks), index.manifest["index_type"])
