"""Evaluators that read artifacts and labelled data and return named metrics: intents, retrieval, comparison of two
models, the HTML report, shadow reports."""
