"""Evaluators that read artifacts and return named metrics, and the benchmark scripts built from them."""
