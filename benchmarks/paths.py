"""Where the benchmarks find their data and put their results, relative to the checkout they run from."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARK_DATA = ROOT / "data" / "benchmarks"
CONVERSATIONS = BENCHMARK_DATA / "conversations"
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"
RESULTS = ROOT / "benchmarks" / "results"
