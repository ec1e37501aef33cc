"""Where the bundled demo data lives: a fictional Korean online store's help center and chat utterances."""

from __future__ import annotations

from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parents[1] / "demo"
DEMO_TRAIN = DEMO_DIR / "train.csv"
DEMO_VALIDATION = DEMO_DIR / "validation.csv"
DEMO_TEST = DEMO_DIR / "test.csv"
DEMO_ARTICLES = DEMO_DIR / "articles"
DEMO_LABELS = DEMO_DIR / "intents.json"
DEMO_ANSWERS = DEMO_DIR / "answers.json"
DEMO_ROUTING = DEMO_DIR / "routing.json"
DEMO_DETAILS = DEMO_DIR / "details.yaml"
