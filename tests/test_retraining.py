"""The retraining loop after review: export the reviewed labels, retrain with them, compare two models on the same
fixed set, promote only a model that is not worse (and roll back), serve the promoted one, and read what a shadow
model did on live traffic. Real SQLite and PostgreSQL, real models, a real server."""

from __future__ import annotations

import csv
import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from live_server import serving

from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role
from deflect.cli.main import main
from deflect.conversation.suggester import Suggester
from deflect.core.demo import DEMO_LABELS, DEMO_TEST, DEMO_TRAIN, DEMO_VALIDATION
from deflect.core.records import OUT_OF_SCOPE, Utterance
from deflect.core.settings import Settings
from deflect.evaluation.compare import compare_models, promotion_gate
from deflect.evaluation.shadow import compare_shadow
from deflect.ingest.reviewed import merge_reviewed
from deflect.ingest.utterances import load_utterances, read_rows
from deflect.intent.model import IntentModel
from deflect.lifecycle.registry import ModelRegistry
from deflect.retrieval.index import ArticleIndex
from deflect.store.events import EventStore, SuggestionRecord
from deflect.store.reviewed import export_reviewed
from deflect.store.tables import ReviewLabel, ShadowPrediction
from deflect.training.run import run_training
from deflect.training.trainer import TrainingArguments

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def label(suggestion_id: str, text: str, action: str, intent: str, minutes: int, **changes: object) -> ReviewLabel:
    """A reviewer's label as the review page stores it, `minutes` after START."""
    fields: dict[str, object] = {
        "suggestion_id": suggestion_id,
        "conversation_id": f"c-{suggestion_id}",
        "customer_id": None,
        "created_at": START + timedelta(minutes=minutes),
        "text": text,
        "locale": "ko" if any("가" <= c <= "힣" for c in text) else "en",
        "predicted_intent": "delivery_status",
        "model_version": "m-1",
        "action": action,
        "intent": intent,
        "article_id": None,
        "note": None,
        "reviewer": "mina",
        "reviewer_key_id": "k-1",
        **changes,
    }
    return ReviewLabel(**fields)


def demo_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8")))


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "label", "locale"])
        writer.writeheader()
        writer.writerows(rows)
    return path


# ---- fixed data and a second, smaller model, shared by the tests below -------------------------------------------


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small store data folder: 8 training examples per intent, and fixed validation and test sets of every 10th
    demo validation and test message (out-of-scope ones included)."""
    folder = tmp_path_factory.mktemp("small-data")
    seen: Counter[str] = Counter()
    train = []
    for row in demo_rows(DEMO_TRAIN):
        if seen[row["label"]] < 8:
            seen[row["label"]] += 1
            train.append(row)
    write_csv(folder / "train.csv", train)
    write_csv(folder / "validation.csv", demo_rows(DEMO_VALIDATION)[::10])
    write_csv(folder / "test.csv", demo_rows(DEMO_TEST)[::10])
    (folder / "intents.json").write_text(DEMO_LABELS.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


GIFT_WRAPPING = ["선물 포장 되나요?", "Can you gift wrap my order?", "선물용으로 포장해 주실 수 있나요"]


def reviewed_labels(small_data: Path) -> list[ReviewLabel]:
    """What reviewers did in a week: a new intent (three examples), a new intent seen once, a relabelled training
    example, an out-of-scope message, a message of the test set and one of the validation set, and a label changed
    by a later one."""
    relabelled = demo_rows(small_data / "train.csv")[0]["text"]  # an account_delete example
    tested = demo_rows(small_data / "test.csv")[1]["text"]
    validated = demo_rows(small_data / "validation.csv")[1]
    return [
        *(label(f"s-gift-{i}", t, "new_intent", "gift_wrapping", i) for i, t in enumerate(GIFT_WRAPPING)),
        label("s-price", "Do you match a competitor's price?", "new_intent", "price_match", 4),
        label("s-relabel", relabelled, "correct", "account_update", 5, predicted_intent="account_delete"),
        label("s-weather", "what's the weather tomorrow", "out_of_scope", OUT_OF_SCOPE, 6),
        label("s-tested", tested, "confirm", "delivery_status", 7),
        label("s-validated", validated["text"], "confirm", validated["label"], 11),
        label("s-changed", "주문한 거 언제 와요?", "confirm", "delivery_status", 8),
        label("s-changed", "주문한 거 언제 와요?", "correct", "order_status", 9, reviewer="joon"),
        label(
            "s-article",
            "배송지 바꾸고 싶어요",
            "attach_article",
            "shipping_address_change",
            10,
            article_id="shipping-address-ko",
        ),
    ]


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory, small_data: Path) -> Path:
    store = EventStore.open(f"sqlite:///{tmp_path_factory.mktemp('reviews') / 'events.db'}")
    with store.session() as session:
        session.add_all(reviewed_labels(small_data))
    out = tmp_path_factory.mktemp("export")
    export_reviewed(store, out)
    store.close()
    return out


@pytest.fixture(scope="module")
def retrained_dir(tmp_path_factory: pytest.TempPathFactory, small_data: Path, export_dir: Path) -> Path:
    """A smaller model than the demo one, trained on the small data with the reviewed labels merged in."""
    out = tmp_path_factory.mktemp("models") / "small-reviewed"
    run_training(small_data, out, TrainingArguments(folds=3), reviewed=export_dir)
    return out


# ---- export -------------------------------------------------------------------------------------------------------


def test_export_writes_the_newest_label_per_suggestion_as_csv_and_dataset(
    database_url: str, tmp_path: Path, small_data: Path
) -> None:
    store = EventStore.open(database_url)
    with store.session() as session:
        session.add_all(reviewed_labels(small_data))

    summary = export_reviewed(store, tmp_path / "reviewed")
    store.close()

    rows = read_rows(summary.csv_path)
    assert summary.rows == len(rows) == 10  # eleven labels, two of them on one suggestion
    assert list(rows[0]) == [
        "text",
        "label",
        "locale",
        "action",
        "article_id",
        "reviewer",
        "labelled_at",
        "suggestion_id",
        "predicted_intent",
        "model_version",
    ]
    changed = [r for r in rows if r["suggestion_id"] == "s-changed"]
    assert len(changed) == 1 and changed[0]["label"] == "order_status" and changed[0]["reviewer"] == "joon"
    assert changed[0]["labelled_at"] == "2026-11-20T09:09:00+00:00"
    weather = next(r for r in rows if r["suggestion_id"] == "s-weather")
    assert weather["label"] == OUT_OF_SCOPE and weather["locale"] == "en"
    assert next(r for r in rows if r["action"] == "attach_article")["article_id"] == "shipping-address-ko"
    assert summary.actions == {"new_intent": 4, "correct": 2, "out_of_scope": 1, "confirm": 2, "attach_article": 1}
    assert summary.new_intents == ["gift_wrapping", "price_match"]
    assert summary.line().endswith("new intents: gift_wrapping, price_match")

    # our own loaders read both back, the same
    from_csv = load_utterances(summary.csv_path)
    from_dataset = load_utterances(summary.dataset_path, "train")
    assert from_csv == from_dataset
    assert Utterance("주문한 거 언제 와요?", "order_status", "ko") in from_csv


def test_export_reviewed_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    store = EventStore.open(url)
    with store.session() as session:
        session.add(label("s-1", "택배가 안 와요", "confirm", "delivery_not_received", 0))
    store.close()

    assert main(["export-reviewed", "--out", str(tmp_path / "out"), "--database-url", url]) == 0
    assert "1 reviewed labels (confirm 1); new intents: none" in capsys.readouterr().out
    assert [r["label"] for r in read_rows(tmp_path / "out" / "reviewed.csv")] == ["delivery_not_received"]

    (tmp_path / "a-file").write_text("")
    assert main(["export-reviewed", "--out", str(tmp_path / "a-file"), "--database-url", url]) == 2
    assert "a-file: is a file; give a folder for the export" in capsys.readouterr().err


# ---- training with reviewed labels --------------------------------------------------------------------------------


def test_reviewed_labels_win_over_training_and_never_enter_held_out_data() -> None:
    training = [
        Utterance("where is my parcel", "delivery_status", "en"),
        Utterance("my parcel never came", "delivery_not_received", "en"),
        Utterance("cancel my order", "order_cancel", "en"),
        Utterance("cancel it", "order_cancel", "en"),
    ]
    reviewed = [
        Utterance("where is my parcel", "delivery_not_received", "en"),
        Utterance("wrap it as a gift", "gift_wrapping", "en"),
        Utterance("gift wrap please", "gift_wrapping", "en"),
        Utterance("price match?", "price_match", "en"),
        Utterance("a test sentence", "order_cancel", "en"),
        Utterance("cancel it", "order_change", "en"),
        Utterance("cancel it", "order_cancel", "en"),  # a later label of the same text wins
    ]

    merge = merge_reviewed(training, reviewed, held_out_texts={"a test sentence"})

    assert merge.utterances == [
        Utterance("my parcel never came", "delivery_not_received", "en"),
        Utterance("cancel my order", "order_cancel", "en"),
        Utterance("where is my parcel", "delivery_not_received", "en"),
        Utterance("wrap it as a gift", "gift_wrapping", "en"),
        Utterance("gift wrap please", "gift_wrapping", "en"),
        Utterance("cancel it", "order_cancel", "en"),
    ]
    assert (merge.added, merge.replaced, merge.held_out) == (4, 1, 1)
    assert merge.new_intents == ["gift_wrapping"] and merge.too_few == {"price_match": 1}


def test_training_with_reviewed_labels_learns_the_new_intent_and_records_them(
    retrained_dir: Path, small_data: Path
) -> None:
    model = IntentModel.from_pretrained(retrained_dir)
    reviewed = model.manifest["data"]["reviewed"]

    assert "gift_wrapping" in model.intents and "price_match" not in model.intents
    assert reviewed["rows"] == 7  # 10 exported: one in the test set, one in validation, one new intent seen once
    assert reviewed["replaced_training_rows"] == 1 and reviewed["left_out_in_held_out_data"] == 2
    assert reviewed["new_intents"] == ["gift_wrapping"]
    assert reviewed["new_intents_with_too_few_examples"] == {"price_match": 1}
    assert model.manifest["data"]["examples"] == len(load_utterances(small_data, "train")) - 1 + 7
    assert model.predict(["선물 포장해 주실 수 있어요?"])[0].intent == "gift_wrapping"
    card = (retrained_dir / "README.md").read_text(encoding="utf-8")
    assert "Reviewed labels from" in card and "`gift_wrapping`" in card


def test_train_command_merges_an_export_csv_and_explains_a_bad_one(
    tmp_path: Path, small_data: Path, export_dir: Path, retrained_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["train", "--data", str(small_data), "--folds", "3"]

    # the same data, arguments and reviewed labels as the model already there: nothing to retrain
    assert main([*arguments, "--out", str(retrained_dir), "--include-reviewed", str(export_dir / "reviewed.csv")]) == 0
    out = capsys.readouterr().out
    assert "reviewed labels from" in out and "7 in the training split (1 replaced a training example's label)" in out
    assert "new intent 'price_match' left out: 1 reviewed example(s), it needs at least 2" in out
    assert "up to date" in out

    broken = tmp_path / "reviewed.csv"
    broken.write_text("text,label\n선물 포장 되나요?,gift_wrapping\n,order_status\n", encoding="utf-8")
    assert main([*arguments, "--out", str(tmp_path / "m"), "--include-reviewed", str(broken)]) == 2
    assert f"{broken}, line 3: 'text' is empty" in capsys.readouterr().err


# ---- compare, promote, roll back, serve ---------------------------------------------------------------------------


def decided(prediction: object) -> str:
    return OUT_OF_SCOPE if prediction.out_of_scope else prediction.intent  # type: ignore[attr-defined]


def test_compare_shows_both_models_side_by_side_and_where_they_disagree(
    demo_model_dir: Path,
    demo_model: IntentModel,
    retrained_dir: Path,
    small_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fixed = load_utterances(small_data, "test")
    retrained = IntentModel.from_pretrained(retrained_dir)

    comparison = compare_models(demo_model, retrained, fixed, names=("demo", "small"), latency_sample=10)

    assert comparison.first.examples == comparison.second.examples == len(fixed)
    pairs = zip(fixed, comparison.first.predictions, comparison.second.predictions, strict=True)
    differently = [u.text for u, p, q in pairs if decided(p) != decided(q)]
    assert differently and [d.text for d in comparison.disagreements] == differently
    kinds = (comparison.second_better, comparison.second_worse, comparison.both_wrong)
    assert sum(len(kind) for kind in kinds) == len(differently)
    gate = promotion_gate(comparison.first, comparison.second)
    assert [check.metric for check in gate.checks] == [
        "accuracy_before_rejection",
        "in_scope_accuracy",
        "macro_f1",
        "out_of_scope_recall",
    ]
    assert not gate.passed and "accuracy_before_rejection" in [check.metric for check in gate.failures]

    report = tmp_path / "report"
    command = ["models", "compare", str(demo_model_dir), str(retrained_dir), "--data", str(small_data)]
    assert main([*command, "--report", str(report)]) == 0
    out = capsys.readouterr().out
    for row in ("accuracy (before rejection)", "macro-F1", "out-of-scope recall", "ECE", "bot answers (coverage)"):
        assert row in out
    assert f"A and B decide {len(differently)} of {len(fixed)} messages differently" in out
    assert "small-reviewed" in (report / "report.html").read_text(encoding="utf-8")


def test_promotion_needs_a_model_that_is_not_worse_and_rollback_restores_the_one_before(
    demo_model_dir: Path,
    demo_index_dir: Path,
    retrained_dir: Path,
    small_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # serving the small retrained model before the registry exists
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEFLECT_MODEL_DIR", str(retrained_dir))
    monkeypatch.setenv("DEFLECT_INDEX_DIR", str(demo_index_dir))
    monkeypatch.setenv("DEFLECT_MODEL_REGISTRY_FILE", str(tmp_path / "models.json"))
    settings = Settings(api_keys_file=tmp_path / "keys.json", database_url=f"sqlite:///{tmp_path / 'events.db'}")
    key, _ = KeyStore(settings.api_keys_file).create("ops", Role.ADMIN)
    small = IntentModel.from_pretrained(retrained_dir)
    demo_version = IntentModel.from_pretrained(demo_model_dir).version
    suggester = Suggester(small, ArticleIndex.load(demo_index_dir, encoder=small.encoder), settings)
    promote = ["models", "promote", "--index", str(demo_index_dir), "--data", str(small_data)]

    with serving(create_app(settings, suggester)) as server:
        remote = ["--server", server, "--admin-key", key]

        def served_version() -> str:
            state = httpx.get(f"{server}/admin/models/activation", headers={"Authorization": f"Bearer {key}"})
            return str(state.json()["active_model_version"])

        assert main([*promote, str(demo_model_dir), *remote]) == 0
        assert f"now serves model {demo_version}" in capsys.readouterr().out
        assert served_version() == demo_version

        registry = ModelRegistry(tmp_path / "models.json").read()
        assert [(e.model_version, e.note) for e in registry.entries] == [
            (small.version, "baseline"),
            (demo_version, "promoted"),
        ]
        assert registry.active == 1 and registry.entries[1].model_dir == str(demo_model_dir.resolve())
        assert registry.entries[1].data == f"{small_data} (validation)"  # the gate decides: not on the test split
        assert (
            registry.entries[1].metrics["accuracy_before_rejection"]
            > registry.entries[0].metrics["accuracy_before_rejection"]
        )

        # the smaller model is worse than the active one: refused, nothing changes
        assert main([*promote, str(retrained_dir), *remote]) == 1
        refusal = capsys.readouterr().err
        active_accuracy = registry.entries[1].metrics["accuracy_before_rejection"]
        assert "deflect models promote: refused" in refusal and f"accuracy {active_accuracy:.2%} → " in refusal
        assert ModelRegistry(tmp_path / "models.json").read() == registry
        assert served_version() == demo_version

        assert main(["models", "list"]) == 0
        listed = capsys.readouterr().out.splitlines()
        assert listed[0].startswith(f"  0  {small.version}") and listed[1].startswith(f"* 1  {demo_version}")

        # deflect serve, given no model or index, serves the registry's active one
        monkeypatch.delenv("DEFLECT_MODEL_DIR")
        monkeypatch.delenv("DEFLECT_INDEX_DIR")
        started: list[tuple[str | None, str | None]] = []

        def uvicorn_run(*args: object, **kwargs: object) -> None:
            started.append((os.environ.get("DEFLECT_MODEL_DIR"), os.environ.get("DEFLECT_INDEX_DIR")))

        monkeypatch.setattr("uvicorn.run", uvicorn_run)
        assert main(["serve"]) == 0
        assert started == [(str(demo_model_dir.resolve()), str(demo_index_dir.resolve()))]

        assert main(["models", "rollback", *remote]) == 0
        assert f"rolled back from model {demo_version} to {small.version}" in capsys.readouterr().out
        assert served_version() == small.version
        assert ModelRegistry(tmp_path / "models.json").active().model_version == small.version  # type: ignore[union-attr]

        assert main(["models", "rollback"]) == 2
        assert "is the first recorded one; there is nothing before it" in capsys.readouterr().err


# ---- shadow mode --------------------------------------------------------------------------------------------------


def suggestion(suggestion_id: str, text: str, intent: str, minutes: int, **changes: object) -> SuggestionRecord:
    fields: dict[str, object] = {
        "id": suggestion_id,
        "conversation_id": f"c-{suggestion_id}",
        "customer_id": None,
        "text": text,
        "locale": "ko",
        "intent": intent,
        "confidence": 0.9,
        "out_of_scope": False,
        "alternatives": [(intent, 0.9)],
        "articles": [],
        "decision": "bot_answer",
        "reason_code": "confident",
        "reason": "Confident",
        "frustration_score": 0.0,
        "model_version": "active-1",
        "index_version": "i-1",
        "created_at": START + timedelta(minutes=minutes),
        **changes,
    }
    return SuggestionRecord(**fields)  # type: ignore[arg-type]


def shadow(suggestion_id: str, intent: str, minutes: int, **changes: object) -> ShadowPrediction:
    fields: dict[str, object] = {
        "suggestion_id": suggestion_id,
        "created_at": START + timedelta(minutes=minutes),
        "model_version": "candidate-2",
        "intent": intent,
        "confidence": 0.8,
        "out_of_scope": False,
        "decision": "bot_answer",
        "articles": [],
        **changes,
    }
    return ShadowPrediction(**fields)


def test_shadow_report_shows_where_the_candidate_disagreed_and_who_matched_the_reviewer(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = EventStore.open(database_url)
    live = [
        suggestion("s-1", "택배가 어디에 있나요?", "delivery_status", 0),
        suggestion("s-2", "주문한 거 언제 와요?", "delivery_status", 1),
        suggestion("s-3", "오늘 날씨 어때요", "delivery_status", 2, out_of_scope=True, decision="handoff"),
        suggestion("s-4", "언제 도착해요?", "delivery_status", 3),
        suggestion("s-5", "쿠폰이 안 돼요", "coupon_usage", 4),
    ]
    for record in live:
        store.record_suggestion(record)
    with store.session() as session:
        session.add_all(
            [
                shadow("s-1", "delivery_status", 0),
                shadow("s-2", "order_status", 1, decision="suggest_articles"),
                shadow("s-3", "delivery_status", 2),  # the candidate would have answered an out-of-scope message
                shadow("s-4", "order_status", 3),
                shadow("s-5", "coupon_usage", 4, out_of_scope=True, decision="handoff"),
                shadow("s-5", "coupon_usage", 5),  # written twice: the newest counts
                shadow("s-1", "delivery_status", 0, model_version="candidate-1"),
            ]
        )
        session.add_all(
            [
                label("s-2", "주문한 거 언제 와요?", "correct", "order_status", 10),
                label("s-4", "언제 도착해요?", "correct", "order_status", 11),
                label("s-4", "언제 도착해요?", "confirm", "delivery_status", 12),  # a second look: the active was right
                label("s-3", "오늘 날씨 어때요", "out_of_scope", OUT_OF_SCOPE, 13),
            ]
        )

    [candidate, older] = compare_shadow(store)

    assert (candidate.shadow_version, older.shadow_version) == ("candidate-2", "candidate-1")
    assert len(candidate.pairs) == 5 and candidate.active_versions == ["active-1"]
    assert (candidate.same_intent, candidate.same_decision) == (2, 3)
    assert (candidate.only_active_out_of_scope, candidate.only_shadow_out_of_scope) == (1, 0)
    assert candidate.confusions() == [
        ("delivery_status", "order_status", 2),
        (OUT_OF_SCOPE, "delivery_status", 1),
    ]
    assert len(candidate.reviewed) == 3
    assert (candidate.active_matches_reviewer, candidate.shadow_matches_reviewer) == (2, 1)
    assert [p.shadow_version for p in compare_shadow(store, "candidate-1")[0].pairs] == ["candidate-1"]

    url = database_url
    assert main(["models", "shadow-report", "--database-url", url, "--model-version", "candidate-2"]) == 0
    out = capsys.readouterr().out
    assert "shadow model candidate-2 beside active active-1: 5 live suggestions" in out
    assert "same intent 40.0% (2 of 5), same decision 60.0% (3 of 5)" in out
    assert "delivery_status → order_status 2" in out
    assert "reviewed 3: active matched the reviewer 66.7% (2 of 3), shadow 33.3% (1 of 3)" in out
    disagreement = "'언제 도착해요?': active delivery_status/bot_answer → shadow order_status/bot_answer"
    assert f"{disagreement} (reviewer: delivery_status)" in out
    assert main(["models", "shadow-report", "--database-url", url, "--model-version", "nope"]) == 0
    assert "no shadow predictions of model nope yet" in capsys.readouterr().out
    store.close()
