"""Out-of-scope detection: the scores, the threshold objectives, and training with a separate validation set."""

from __future__ import annotations

import numpy as np

from deflect.core.records import OUT_OF_SCOPE, Utterance
from deflect.intent.ood import EmbeddingReference, auroc
from deflect.training.thresholds import choose_out_of_scope_threshold
from deflect.training.trainer import TrainingArguments, train_intent_model


def test_distance_scores_rank_a_far_query_below_a_near_one() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(8)[:2] * 3
    examples = np.vstack([centre + 0.1 * rng.standard_normal((20, 8)) for centre in centres])
    examples /= np.linalg.norm(examples, axis=1, keepdims=True)
    reference = EmbeddingReference.fit(examples, np.repeat([0, 1], 20), neighbours=5)
    near, far = np.eye(8)[0], np.eye(8)[5]

    scores = reference.distance_scores(np.vstack([near, far]))

    assert scores["knn"][0] > scores["knn"][1]
    assert scores["mahalanobis"][0] > scores["mahalanobis"][1]


def test_auroc_is_the_chance_an_in_scope_query_scores_higher() -> None:
    assert auroc(np.array([0.9, 0.8]), np.array([0.1, 0.2])) == 1.0
    assert auroc(np.array([0.1]), np.array([0.9])) == 0.0
    assert auroc(np.array([0.5, 0.5]), np.array([0.5])) == 0.5


def test_a_recall_target_rejects_that_share_of_validation_out_of_scope_queries() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.1, 0.2, 0.3, 0.65])
    is_out = np.array([False, False, False, False, True, True, True, True])
    correct = ~is_out

    choice = choose_out_of_scope_threshold(scores, is_out, correct, 0.05, target_recall=0.75)
    rejected = scores < choice.threshold

    assert rejected[is_out].mean() >= 0.75 and not rejected[~is_out].any()
    assert "at least 75%" in choice.objective
    every = choose_out_of_scope_threshold(scores, is_out, correct, 0.05, target_recall=1.0)
    assert (scores < every.threshold)[is_out].all() and (scores < every.threshold)[3]


def test_validation_out_of_scope_queries_set_the_threshold_without_any_in_training() -> None:
    intents = {
        "card_arrival": ["where is my card", "my card has not arrived", "when will the card come", "card not here"],
        "exchange_rate": ["what is the exchange rate", "euro to dollar rate", "1 usd in eur", "fx rate today"],
        "pin_blocked": ["my pin is blocked", "unblock my pin", "pin locked after 3 tries", "wrong pin entered"],
    }
    train = [Utterance(text, label, "en") for label, texts in intents.items() for text in texts]
    validation = [
        Utterance("has my card been posted yet", "card_arrival", "en"),
        Utterance("rate for pounds to euros", "exchange_rate", "en"),
        Utterance("pin doesn't work anymore", "pin_blocked", "en"),
        Utterance("what's the weather in Paris", OUT_OF_SCOPE, "en"),
        Utterance("recommend a good pizza place", OUT_OF_SCOPE, "en"),
    ]
    arguments = TrainingArguments(encoder="minilm", c_values=(10.0,), target_out_of_scope_recall=1.0)

    result = train_intent_model(train, arguments, validation=validation)

    out_of_scope = result.model.manifest["out_of_scope"]
    assert out_of_scope["trained_with_out_of_scope_examples"] is False
    assert out_of_scope["validated_with_out_of_scope_examples"] is True
    assert result.model.manifest["recipe"]["validation"].startswith("the given validation set")
    weather, card = result.model.predict(["what's the weather in Paris", "has my card been posted yet"])
    assert weather.out_of_scope and not card.out_of_scope and card.intent == "card_arrival"
    assert result.metrics["validation"]["out_of_scope_recall"] == 1.0
