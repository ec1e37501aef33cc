"""Hybrid article search: FAISS over chunk embeddings plus BM25 over chunk tokens, folded into articles and fused,
saved as one versioned folder. Later changes are saved as new immutable versions under the same root, which
serves the newest through a pointer file (`deflect.retrieval.versions`)."""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from deflect.core.artifacts import MANIFEST, ArtifactError, manifest_header, read_manifest, write_json
from deflect.core.encoder import Encoder
from deflect.core.records import Article
from deflect.encoders.for_artifact import artifact_encoder
from deflect.retrieval import versions
from deflect.retrieval.chunking import Chunk, chunk_article
from deflect.retrieval.lexical import LexicalIndex
from deflect.retrieval.search import Candidate, SearchOptions, fuse
from deflect.retrieval.tokenizer import LEXICAL_ANALYSIS
from deflect.retrieval.vectors import VectorIndexSettings, build_vector_index, configure_search, resolve_kind

INDEX_FORMAT = "deflect-article-index"
INDEX_FORMAT_VERSION = 3
VECTORS_FILE = "vectors.faiss"
ARTICLES_FILE = "articles.jsonl"
CHUNKS_FILE = "chunks.jsonl"


@dataclass(frozen=True)
class ChunkingSettings:
    max_chars: int = 700
    overlap_chars: int = 120


@dataclass(frozen=True)
class IndexChanges:
    added: int
    updated: int
    deleted: int
    unchanged: int
    embedded_chunks: int
    compacted: bool  # the vector index was rebuilt from its stored vectors, without re-embedding


@dataclass(frozen=True)
class ArticleHit:
    article: Article
    score: float
    snippet: str  # the best-matching passage, shortened for a card
    passage: str  # the best-matching passage in full


def articles_fingerprint(
    articles: list[Article], encoder_reference: str, chunking: ChunkingSettings, vectors: VectorIndexSettings
) -> str:
    settings = f"{INDEX_FORMAT_VERSION}:{encoder_reference}:{asdict(chunking)}:{asdict(vectors)}:{LEXICAL_ANALYSIS}"
    digest = hashlib.sha256(settings.encode())
    for article in articles:
        digest.update(json.dumps(asdict(article), ensure_ascii=False, sort_keys=True).encode())
    return digest.hexdigest()


def _snippet(text: str, size: int = 200) -> str:
    return text if len(text) <= size else text[: size - 1].rstrip() + "…"


class ArticleIndex:
    """Chunk rows are aligned with vector rows. Deleting or updating an article blanks its rows (None) instead of
    moving the others, so an update only embeds what changed; once blank rows pass `compaction_share`, the vector
    index is rebuilt from its own stored vectors."""

    compaction_share = 0.2

    def __init__(
        self,
        encoder: Encoder,
        articles: list[Article],
        chunks: list[Chunk | None],
        vectors: faiss.Index,
        lexical: LexicalIndex,
        manifest: dict[str, Any],
    ):
        self.encoder = encoder
        self.chunks = chunks
        self.vectors = vectors
        self.lexical = lexical
        self.manifest = manifest
        self._set_articles(articles)

    def _set_articles(self, articles: list[Article]) -> None:
        """Derive what search reads per query from the articles and chunks, once per change rather than per query.
        Compaction only drops blank rows, so the live count it leaves stays right."""
        self.articles = {article.id: article for article in articles}
        self.locales = frozenset(article.locale for article in articles)
        self.live_chunks = sum(chunk is not None for chunk in self.chunks)
        self._by_group: dict[tuple[str, str], Article] = {}
        for article in articles:
            self._by_group.setdefault((article.group_id, article.locale), article)
        self._leads: dict[str, str] = {}  # each article's first passage, shown when only its title matched
        for chunk in self.chunks:
            if chunk is not None and not self._is_title(chunk):
                self._leads.setdefault(chunk.article_id, chunk.text)

    def article_in_group(self, group_id: str, locale: str) -> Article | None:
        """The article of a translation group in one locale."""
        return self._by_group.get((group_id, locale))

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
        vector_settings: VectorIndexSettings | None = None,
        *,
        source: str = "",
    ) -> ArticleIndex:
        chunking = chunking or ChunkingSettings()
        vector_settings = vector_settings or VectorIndexSettings()
        chunks = _chunk_all(articles, chunking)
        embeddings = _embed(encoder, chunks, articles)
        vectors, kind = build_vector_index(embeddings, vector_settings)
        lexical = LexicalIndex.build(_chunk_texts(chunks, articles))
        manifest = {"source": source, "index_type": kind, "vector_index": asdict(vector_settings)}
        manifest["chunking"] = asdict(chunking)
        index = cls(encoder, articles, list(chunks), vectors, lexical, manifest)
        index._refresh_manifest()
        return index

    def apply(self, articles: list[Article], *, source: str = "") -> IndexChanges:
        """Bring the index in line with `articles`: embed new and changed articles, blank the rows of changed and
        deleted ones. Compacts the vector index when blank rows pass `compaction_share`, or when an automatic
        index kind should change with the new size (exact ↔ approximate)."""
        previous = self.articles
        wanted = {article.id: article for article in articles}
        added = [a for a in articles if a.id not in previous]
        updated = [a for a in articles if a.id in previous and previous[a.id] != a]
        deleted = [article_id for article_id in previous if article_id not in wanted]
        stale = {a.id for a in updated} | set(deleted)
        self.chunks = [None if c is None or c.article_id in stale else c for c in self.chunks]
        fresh = _chunk_all(added + updated, self.chunking)
        if fresh:
            self.vectors.add(_embed(self.encoder, fresh, added + updated))
            self.chunks.extend(fresh)
        self._set_articles(articles)
        settings = VectorIndexSettings(**self.manifest["vector_index"])
        blank_share = 1 - self.live_chunks / max(1, len(self.chunks))
        compact = blank_share > self.compaction_share or resolve_kind(settings, self.live_chunks) != self.kind
        if compact:
            self._compact(settings)
        self.lexical = LexicalIndex.build(_chunk_texts(self.chunks, articles))
        changes = IndexChanges(
            len(added), len(updated), len(deleted), len(articles) - len(added) - len(updated), len(fresh), compact
        )
        self.manifest["source"] = source or self.manifest.get("source", "")
        self.manifest["last_update"] = asdict(changes)
        self._refresh_manifest()
        return changes

    def _compact(self, settings: VectorIndexSettings) -> None:
        live_rows = [row for row, chunk in enumerate(self.chunks) if chunk is not None]
        stored = self.vectors.reconstruct_batch(np.asarray(live_rows, dtype=np.int64))
        self.vectors, kind = build_vector_index(stored, settings)
        self.manifest["index_type"] = kind
        self.chunks = [self.chunks[row] for row in live_rows]

    @property
    def kind(self) -> str:
        return str(self.manifest["index_type"])

    @property
    def chunking(self) -> ChunkingSettings:
        return ChunkingSettings(**self.manifest["chunking"])

    def _refresh_manifest(self) -> None:
        articles = list(self.articles.values())
        vector_settings = VectorIndexSettings(**self.manifest["vector_index"])
        fingerprint = articles_fingerprint(articles, self.encoder.reference, self.chunking, vector_settings)
        self.manifest = {
            **manifest_header(INDEX_FORMAT, INDEX_FORMAT_VERSION, fingerprint, self.encoder),
            **{k: v for k, v in self.manifest.items() if k in ("source", "index_type", "vector_index", "chunking")},
            "lexical": LEXICAL_ANALYSIS,
            "articles": len(articles),
            "chunks": self.live_chunks,
            "blank_rows": len(self.chunks) - self.live_chunks,
            "locales": dict(Counter(article.locale for article in articles)),
            **({"last_update": self.manifest["last_update"]} if "last_update" in self.manifest else {}),
        }

    def save(self, folder: str | Path) -> None:
        """Write the index files into `folder` (a fresh one: see `save_version` for a root that is served)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.vectors, str(folder / VECTORS_FILE))
        versions.checkpoint("vectors")
        self.lexical.save(folder)
        versions.checkpoint("lexical")
        _write_jsonl(folder / ARTICLES_FILE, [asdict(a) for a in self.articles.values()])
        versions.checkpoint("articles")
        _write_jsonl(folder / CHUNKS_FILE, [asdict(c) if c is not None else None for c in self.chunks])
        versions.checkpoint("chunks")
        write_json(folder / MANIFEST, self.manifest)
        versions.checkpoint("manifest")

    def save_version(self, folder: str | Path) -> Path:
        """Save as a new version of the index root `folder` (or the root of the version folder it is) and point
        the root at it, atomically; no existing version is modified. Returns the new version's folder."""
        return versions.save_version(folder, self.save, self.version)

    @classmethod
    def load(cls, folder: str | Path, encoder: Encoder | None = None, *, threads: int | None = None) -> ArticleIndex:
        """The index a folder serves: the version its pointer names when it has versions, else its own files."""
        folder = versions.served_folder(folder)
        manifest = read_manifest(folder, INDEX_FORMAT, INDEX_FORMAT_VERSION)
        encoder = artifact_encoder(folder, manifest, encoder, threads)
        try:
            vectors = faiss.read_index(str(folder / VECTORS_FILE))
            articles = [_article(row) for row in _read_jsonl(folder / ARTICLES_FILE)]
            chunks = [Chunk(**row) if row is not None else None for row in _read_jsonl(folder / CHUNKS_FILE)]
            lexical = LexicalIndex.load(folder, len(chunks))
            configure_search(vectors, manifest["index_type"], VectorIndexSettings(**manifest["vector_index"]))
        except (OSError, RuntimeError, ValueError, TypeError) as error:
            raise ArtifactError(f"{folder}: incomplete index ({error})") from None
        if vectors.ntotal != len(chunks):
            raise ArtifactError(f"{folder}: {vectors.ntotal} vectors but {len(chunks)} chunks")
        return cls(encoder, articles, chunks, vectors, lexical, manifest)

    def search(
        self,
        text: str,
        query_vector: np.ndarray,
        k: int = 3,
        *,
        locale: str | None = None,
        fallback_locale: str | None = None,
        intent_scores: Mapping[str, float] | None = None,
        options: SearchOptions | None = None,
    ) -> list[ArticleHit]:
        """The best `k` articles for a query, in `locale` (else `fallback_locale`, else any) — plus, when no article
        in that locale is linked to the predicted intent but one in another locale is, that one too."""
        options = options or SearchOptions()
        candidates = self._candidates(text, query_vector, intent_scores or {}, options)
        if not candidates:
            return []
        fuse(candidates, options)
        ranked = sorted(candidates, key=lambda article_id: -candidates[article_id].fused)
        allowed = self._allowed_locales(locale, fallback_locale)
        chosen = [a for a in ranked if self.articles[a].locale in allowed][:k]
        if intent_scores and options.intent_boost > 0:
            top_intent = max(intent_scores, key=lambda intent: intent_scores[intent])
            if not any(top_intent in self.articles[a].linked_intents for a in chosen):
                elsewhere = [a for a in ranked if top_intent in self.articles[a].linked_intents]
                if elsewhere:
                    chosen = [*chosen[: k - 1], elsewhere[0]]
        return [self._hit(article_id, candidates[article_id]) for article_id in chosen]

    def _allowed_locales(self, locale: str | None, fallback_locale: str | None) -> frozenset[str]:
        for wanted in (locale, fallback_locale):
            if wanted is not None and wanted in self.locales:
                return frozenset({wanted})
        return self.locales

    def _candidates(
        self, text: str, query_vector: np.ndarray, intent_scores: Mapping[str, float], options: SearchOptions
    ) -> dict[str, Candidate]:
        candidates: dict[str, Candidate] = {}
        live_share = self.live_chunks / max(1, len(self.chunks))
        count = min(self.vectors.ntotal, math.ceil(options.candidates / max(live_share, 0.01)))
        if count == 0:
            return candidates
        if options.mode != "lexical":
            scores, rows = self.vectors.search(np.atleast_2d(query_vector).astype(np.float32), count)
            for score, row in zip(scores[0], rows[0], strict=True):
                chunk = self.chunks[row] if row >= 0 else None
                if chunk is None:
                    continue
                candidate = candidates.setdefault(chunk.article_id, Candidate())
                if candidate.dense is None or score > candidate.dense:
                    candidate.dense, candidate.dense_row = float(score), int(row)
        if options.mode != "dense":
            lexical_scores = self.lexical.scores(text)
            top = (
                np.argpartition(-lexical_scores, count - 1)[:count] if count < len(lexical_scores) else np.arange(count)
            )
            for row in top:
                score = float(lexical_scores[row])
                chunk = self.chunks[row]
                if score <= 0 or chunk is None:
                    continue
                candidate = candidates.setdefault(chunk.article_id, Candidate())
                if candidate.lexical is None or score > candidate.lexical:
                    candidate.lexical, candidate.lexical_row = score, int(row)
        if intent_scores:
            for article_id, article in self.articles.items():
                linked = max((intent_scores.get(intent, 0.0) for intent in article.linked_intents), default=0.0)
                if linked > 0:
                    candidates.setdefault(article_id, Candidate()).intent = linked
        return candidates

    def _hit(self, article_id: str, candidate: Candidate) -> ArticleHit:
        article = self.articles[article_id]
        chunk = self.chunks[candidate.best_row] if candidate.best_row is not None else None
        chunk_text = self._leads.get(article_id, article.title) if chunk is None else chunk.text
        if chunk is not None and self._is_title(chunk):
            chunk_text = self._leads.get(article_id, chunk_text)
        passage = _plain(chunk_text)
        return ArticleHit(article, candidate.fused, _snippet(passage), passage)

    def search_text(self, text: str, k: int = 3, **options: Any) -> list[ArticleHit]:
        return self.search(text, self.encoder.encode([text], "query")[0], k, **options)


def _chunk_all(articles: list[Article], chunking: ChunkingSettings) -> list[Chunk]:
    return [c for a in articles for c in chunk_article(a, chunking.max_chars, chunking.overlap_chars)]


def _embed(encoder: Encoder, chunks: list[Chunk], articles: list[Article]) -> np.ndarray:
    return encoder.encode(_chunk_texts(chunks, articles), "passage", show_progress=True)


def _chunk_texts(chunks: Sequence[Chunk | None], articles: list[Article]) -> list[str]:
    """Each chunk's text under its article title, as embedded and as BM25 sees it; blank rows give ''."""
    titles = {article.id: article.title for article in articles}
    return ["" if chunk is None else chunk.embedding_text(titles[chunk.article_id]) for chunk in chunks]


def _plain(markdown: str) -> str:
    lines = [line.lstrip("#- ").strip() for line in markdown.splitlines()]
    return " ".join(line for line in lines if line)


def _article(row: dict[str, Any]) -> Article:
    return Article(**{**row, "intents": tuple(row.get("intents") or ())})


def _write_jsonl(path: Path, rows: list[dict[str, Any] | None]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
