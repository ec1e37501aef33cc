"""Benchmarks run from a checkout (not part of the wheel): intent, retrieval, scale, load, PII, frustration and unmet-
needs figures with their peers and published figures; results in `benchmarks/results/`."""
