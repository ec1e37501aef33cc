"""How well the review page's unmet-needs clustering recovers topics, per distance threshold: draws of intents the
clustering must tell apart (their utterances stand in for messages the model does not cover), scored by the adjusted
Rand index against the true intents. Run on the demo *training* split, where the default threshold was chosen.

    .venv/bin/python -m benchmarks.unmet_needs_benchmark [--model models/demo] [--data data/demo]
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from benchmarks.paths import RESULTS
from deflect.ingest.articles import load_articles
from deflect.ingest.utterances import load_utterances
from deflect.intent.model import IntentModel
from deflect.store.queue_items import QueueEntry
from deflect.store.unmet_needs import cluster_needs

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
RESULT_FILE = RESULTS / "unmet_needs.json"


@dataclass(frozen=True)
class Draw:
    texts: list[str]
    intents: list[str]


def draws(utterances: list[tuple[str, str]], count: int, intents: int, per_intent: int, seed: int) -> list[Draw]:
    random.seed(seed)
    by_intent: dict[str, list[str]] = {}
    for text, intent in utterances:
        by_intent.setdefault(intent, []).append(text)
    names = sorted(name for name, texts in by_intent.items() if len(texts) >= per_intent)
    result = []
    for _ in range(count):
        chosen = random.sample(names, intents)
        pairs = [(text, name) for name in chosen for text in random.sample(by_intent[name], per_intent)]
        result.append(Draw([text for text, _ in pairs], [name for _, name in pairs]))
    return result


def _entry(number: int, text: str) -> QueueEntry:
    return QueueEntry(
        id=number,
        suggestion_id=f"s-{number}",
        conversation_id="c",
        created_at=None,  # type: ignore[arg-type]
        text=text,
        locale="",
        intent="",
        confidence=0.0,
        out_of_scope=True,
        alternatives=[],
        articles=[],
        decision="handoff",
        reason_code="out_of_scope",
        reason="",
        frustration_score=0.0,
        model_version="",
        reasons=[],
        priority=0.0,
        status="open",
        claimed_by=None,
        label=None,
    )


def adjusted_rand(model: IntentModel, reference: np.ndarray, draw: Draw, threshold: float) -> float:
    """Messages left out of every cluster (singletons) count as clusters of their own."""
    entries = [_entry(number, text) for number, text in enumerate(draw.texts)]
    clusters = cluster_needs(entries, model.encode(draw.texts), reference, threshold, min_size=1)
    assigned = {item: cluster.id for cluster in clusters for item in cluster.item_ids}
    return float(adjusted_rand_score(draw.intents, [assigned[number] for number in range(len(entries))]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/demo")
    parser.add_argument("--data", default="data/demo")
    parser.add_argument("--draws", type=int, default=4)
    parser.add_argument("--intents", type=int, default=8)
    parser.add_argument("--per-intent", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    model = IntentModel.from_pretrained(args.model)
    reference = model.encode([article.title for article in load_articles(Path(args.data) / "articles")]).mean(axis=0)
    train = [(u.text, str(u.label)) for u in load_utterances(args.data, "train") if u.label is not None]
    sample = draws(train, args.draws, args.intents, args.per_intent, args.seed)
    figures: dict[str, dict[str, object]] = {}
    means: dict[str, float] = {}
    for threshold in THRESHOLDS:
        scores = [adjusted_rand(model, reference, draw, threshold) for draw in sample]
        means[str(threshold)] = round(float(np.mean(scores)), 4)
        figures[str(threshold)] = {"adjusted_rand_mean": means[str(threshold)], "per_draw": scores}
        per_draw = ", ".join(f"{score:.3f}" for score in scores)
        print(f"distance {threshold:.2f}: adjusted Rand index {np.mean(scores):.3f} ({per_draw})")
    best = max(means, key=means.__getitem__)
    print(f"best threshold on {args.data} train: {best}")
    RESULT_FILE.parent.mkdir(exist_ok=True)
    RESULT_FILE.write_text(
        json.dumps(
            {
                "model": model.version,
                "data": args.data,
                "split": "train",
                "draws": args.draws,
                "intents": args.intents,
                "per_intent": args.per_intent,
                "thresholds": figures,
                "best": best,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
