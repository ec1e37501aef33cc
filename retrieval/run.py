"""The `deflect index` recipe: load articles, skip if up to date, embed chunks, save the index folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deflect.data.articles import load_articles
from deflect.retrieval.index import ArticleIndex, ChunkingSettings, articles_fingerprint
from deflect.training.artifact import manifest_fingerprint, staged_folder
from deflect.training.encoders import load_encoder


@dataclass
class IndexOutcome:
    folder: Path
    skipped: bool
    articles: int
    chunks: int | None


def run_indexing(
    articles_source: str | Path,
    out: str | Path,
    encoder_reference: str,
    *,
    chunking: ChunkingSettings | None = None,
    force: bool = False,
) -> IndexOutcome:
    out = Path(out)
    chunking = chunking or ChunkingSettings()
    articles = load_articles(articles_source)
    if not force and manifest_fingerprint(out) == articles_fingerprint(articles, encoder_reference, chunking):
        return IndexOutcome(out, skipped=True, articles=len(articles), chunks=None)
    index = ArticleIndex.build(articles, load_encoder(encoder_reference), chunking, source=str(articles_source))
    with staged_folder(out) as staging:
        index.save(staging)
    return IndexOutcome(out, skipped=False, articles=len(articles), chunks=len(index.chunks))
