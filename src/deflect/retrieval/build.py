"""The `deflect index` recipe: read the help center, then skip (up to date), update in place (same encoder and
settings: only new and changed articles are embedded) or build from scratch; save the folder whole — or, once the
folder holds versions (an admin article change made one), as a new version it then serves, leaving every existing
version as it was (`deflect.retrieval.versions`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from deflect.core.artifacts import ArtifactError, manifest_fingerprint, read_manifest
from deflect.core.atomic import staged_folder
from deflect.encoders.models import load_encoder
from deflect.ingest.article_fields import SkippedArticle
from deflect.ingest.articles import read_articles
from deflect.retrieval.index import (
    INDEX_FORMAT,
    INDEX_FORMAT_VERSION,
    ArticleIndex,
    ChunkingSettings,
    IndexChanges,
    articles_fingerprint,
)
from deflect.retrieval.vectors import VectorIndexSettings
from deflect.retrieval.versions import index_root, read_pointer, served_folder


@dataclass
class IndexOutcome:
    folder: Path
    action: Literal["up to date", "updated", "built"]
    articles: int
    chunks: int | None = None
    kind: str | None = None
    changes: IndexChanges | None = None
    rebuild_reason: str | None = None  # why an existing index was not updated in place
    skipped: list[SkippedArticle] = field(default_factory=list)
    version_folder: Path | None = None  # the new version's folder, when `folder` has versions


def _reason_to_rebuild(
    out: Path, encoder_reference: str, chunking: ChunkingSettings, vector_settings: VectorIndexSettings
) -> str | None:
    """None when the index at `out` can be updated in place, else why it must be built anew."""
    if not out.exists():
        return "no index yet"
    try:
        manifest = read_manifest(out, INDEX_FORMAT, INDEX_FORMAT_VERSION)
    except ArtifactError as error:
        return str(error)
    if manifest["encoder"]["reference"] != encoder_reference:
        return f"the encoder changed ({manifest['encoder']['reference']} → {encoder_reference})"
    if manifest.get("chunking") != asdict(chunking):
        return "the chunking settings changed"
    if manifest.get("vector_index") != asdict(vector_settings):
        return "the vector index settings changed"
    return None


def run_indexing(
    articles_source: str | Path,
    out: str | Path,
    encoder_reference: str,
    *,
    chunking: ChunkingSettings | None = None,
    vector_settings: VectorIndexSettings | None = None,
    rebuild: bool = False,
) -> IndexOutcome:
    out = Path(out)
    chunking = chunking or ChunkingSettings()
    vector_settings = vector_settings or VectorIndexSettings()
    collection = read_articles(articles_source)
    articles = collection.articles
    fingerprint = articles_fingerprint(articles, encoder_reference, chunking, vector_settings)
    served = served_folder(out)
    if not rebuild and manifest_fingerprint(served) == fingerprint:
        return IndexOutcome(out, "up to date", len(articles), skipped=collection.skipped)
    reason = "asked to rebuild" if rebuild else _reason_to_rebuild(served, encoder_reference, chunking, vector_settings)
    changes = None
    if reason is None:
        index = ArticleIndex.load(out)
        changes = index.apply(articles, source=str(articles_source))
    else:
        encoder = load_encoder(encoder_reference)
        index = ArticleIndex.build(articles, encoder, chunking, vector_settings, source=str(articles_source))
    version_folder = None
    if read_pointer(index_root(out)) is not None:  # a server may serve, or the registry name, any of its versions
        version_folder = index.save_version(out)
    else:
        with staged_folder(out) as staging:
            index.save(staging)
    return IndexOutcome(
        out,
        "updated" if changes is not None else "built",
        len(articles),
        index.live_chunks,
        index.kind,
        changes,
        reason if reason != "no index yet" else None,
        collection.skipped,
        version_folder,
    )
