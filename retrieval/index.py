"""A FAISS index over article chunks, folded back into articles at search time, saved as a versioned folder."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from deflect.data.records import Article
from deflect.retrieval.chunking import Chunk, chunk_article
from deflect.training.artifact import (
    MANIFEST,
    ArtifactError,
    artifact_encoder,
    manifest_header,
    read_manifest,
    write_json,
)
from deflect.training.encoders import Encoder

INDEX_FORMAT = "deflect-article-index"
INDEX_FORMAT_VERSION = 1
VECTORS_FILE = "vectors.faiss"
ARTICLES_FILE = "articles.jsonl"
CHUNKS_FILE = "chunks.jsonl"


@dataclass(frozen=True)
class ChunkingSettings:
    max_chars: int = 700
    overlap_chars: int = 120


@dataclass(frozen=True)
class ArticleHit:
    article: Article
    score: float
    snippet: str  # the best-matching passage, shortened for a card
    passage: str  # the best-matching passage in full


def articles_fingerprint(articles: list[Article], encoder_reference: str, chunking: ChunkingSettings) -> str:
    digest = hashlib.sha256(f"{INDEX_FORMAT_VERSION}:{encoder_reference}:{asdict(chunking)}".encode())
    for article in articles:
        digest.update(json.dumps(asdict(article), ensure_ascii=False, sort_keys=True).encode())
    return digest.hexdigest()


def _snippet(text: str, size: int = 200) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


class ArticleIndex:
    def __init__(
        self,
        encoder: Encoder,
        articles: list[Article],
        chunks: list[Chunk],
        vectors: faiss.Index,
        manifest: dict[str, Any],
    ):
        self.encoder = encoder
        self.articles = {article.id: article for article in articles}
        self.chunks = chunks
        self.vectors = vectors
        self.manifest = manifest
        self.locales = frozenset(article.locale for article in articles)
        self._leads: dict[str, str] = {}  # each article's first passage, shown when only its title matched
        for chunk in chunks:
            if not self._is_title(chunk):
                self._leads.setdefault(chunk.article_id, chunk.text)

    def _is_title(self, chunk: Chunk) -> bool:
        return chunk.heading is None and chunk.text == self.articles[chunk.article_id].title

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "unversioned"))

    @classmethod
    def build(
        cls,
        articles: list[Article],
        encoder: Encoder,
        chunking: ChunkingSettings | None = None,
        *,
        source: str = "",
    ) -> ArticleIndex:
        chunking = chunking or ChunkingSettings()
        chunks = [c for a in articles for c in chunk_article(a, chunking.max_chars, chunking.overlap_chars)]
        titles = {article.id: article.title for article in articles}
        embeddings = encoder.encode(
            [c.embedding_text(titles[c.article_id]) for c in chunks], "passage", show_progress=True
        )
        vectors = faiss.IndexFlatIP(encoder.dim)
        vectors.add(embeddings)
        fingerprint = articles_fingerprint(articles, encoder.reference, chunking)
        manifest = {
            **manifest_header(INDEX_FORMAT, INDEX_FORMAT_VERSION, fingerprint, encoder),
            "source": source,
            "index_type": "flat-inner-product",
            "chunking": asdict(chunking),
            "articles": len(articles),
            "chunks": len(chunks),
            "locales": dict(Counter(article.locale for article in articles)),
        }
        return cls(encoder, articles, chunks, vectors, manifest)

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.vectors, str(folder / VECTORS_FILE))
        _write_jsonl(folder / ARTICLES_FILE, [asdict(a) for a in self.articles.values()])
        _write_jsonl(folder / CHUNKS_FILE, [asdict(c) for c in self.chunks])
        write_json(folder / MANIFEST, self.manifest)

    @classmethod
    def load(cls, folder: str | Path, encoder: Encoder | None = None, *, threads: int | None = None) -> ArticleIndex:
        folder = Path(folder)
        manifest = read_manifest(folder, INDEX_FORMAT, INDEX_FORMAT_VERSION)
        encoder = artifact_encoder(folder, manifest, encoder, threads)
        try:
            vectors = faiss.read_index(str(folder / VECTORS_FILE))
            articles = [_article(row) for row in _read_jsonl(folder / ARTICLES_FILE)]
            chunks = [Chunk(**row) for row in _read_jsonl(folder / CHUNKS_FILE)]
        except (OSError, RuntimeError, ValueError, TypeError) as error:
            raise ArtifactError(f"{folder}: incomplete index ({error})") from None
        if vectors.ntotal != len(chunks):
            raise ArtifactError(f"{folder}: {vectors.ntotal} vectors but {len(chunks)} chunks")
        return cls(encoder, articles, chunks, vectors, manifest)

    def search(
        self,
        query_vector: np.ndarray,
        k: int = 3,
        *,
        locale: str | None = None,
        intent_scores: Mapping[str, float] | None = None,
        intent_boost: float = 0.0,
    ) -> list[ArticleHit]:
        """Best articles for one query vector. Articles in `locale` only, unless none exist in it; articles linked
        to the predicted intents gain `intent_boost` × the intent's probability."""
        if self.vectors.ntotal == 0:
            return []
        chunk_count = min(self.vectors.ntotal, max(64, 20 * k))
        scores, rows = self.vectors.search(np.atleast_2d(query_vector).astype(np.float32), chunk_count)
        wanted_locale = locale if locale in self.locales else None
        best: dict[str, tuple[float, Chunk]] = {}
        for score, row in zip(scores[0], rows[0], strict=True):
            if row < 0:
                continue
            chunk = self.chunks[row]
            article = self.articles[chunk.article_id]
            if wanted_locale and article.locale != wanted_locale:
                continue
            if chunk.article_id not in best or score > best[chunk.article_id][0]:
                best[chunk.article_id] = (float(score), chunk)
        hits = []
        for article_id, (score, chunk) in best.items():
            article = self.articles[article_id]
            if intent_scores and intent_boost:
                score += intent_boost * max((intent_scores.get(i, 0.0) for i in article.intents), default=0.0)
            passage = _plain(self._leads.get(article_id, chunk.text) if self._is_title(chunk) else chunk.text)
            hits.append(ArticleHit(article, score, _snippet(passage), passage))
        hits.sort(key=lambda hit: -hit.score)
        return hits[:k]

    def search_text(self, text: str, k: int = 3, **options: Any) -> list[ArticleHit]:
        return self.search(self.encoder.encode([text], "query")[0], k, **options)


def _plain(markdown: str) -> str:
    lines = [line.lstrip("#- ").strip() for line in markdown.splitlines()]
    return " ".join(line for line in lines if line)


def _article(row: dict[str, Any]) -> Article:
    return Article(**{**row, "intents": tuple(row.get("intents") or ())})


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
