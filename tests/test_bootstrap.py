"""`deflect bootstrap`: a served intent model from a help center alone, with no labelled messages."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from deflect.api.auth import Role
from deflect.cli.main import main
from deflect.core.demo import DEMO_DIR
from deflect.core.settings import Settings
from deflect.ingest.articles import read_articles
from deflect.intent.model import IntentModel
from deflect.intent.passages import PassageEvidence
from deflect.retrieval.index import ArticleIndex
from tests.api_clients import api_clients

GROUPS = ("account-delete", "coupon-use", "damaged-item", "dawn-delivery")


def small_help_center(folder: Path) -> Path:
    for locale in ("en", "ko"):
        (folder / locale).mkdir(parents=True)
        for group in GROUPS:
            shutil.copy(DEMO_DIR / "articles" / locale / f"{group}.md", folder / locale / f"{group}.md")
    return folder


@pytest.fixture(scope="module")
def bootstrapped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A help center of four article groups in Korean and English, the model bootstrapped from it, what it printed."""
    folder = tmp_path_factory.mktemp("bootstrap")
    articles = small_help_center(folder / "articles")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["bootstrap", "--articles", str(articles), "--out", str(folder / "model")]) == 0
    return articles, folder / "model", printed.getvalue()


def test_bootstrap_builds_a_model_whose_intents_are_the_article_groups(bootstrapped):
    _, model_dir, printed = bootstrapped

    assert "4 intents (one per article group)" in printed
    model = IntentModel.from_pretrained(model_dir)
    assert sorted(model.intents) == sorted(GROUPS)
    assert model.manifest["bootstrap"]["articles_count"] == 8
    assert "Bootstrapped from a help center alone" in (model_dir / "README.md").read_text()
    assert model.display_name("account-delete", "ko") == "회원 탈퇴는 어떻게 하나요?"
    predictions = model.predict(["I want to close my account for good", "택배가 부서져서 왔어요"])
    assert [p.intent for p in predictions] == ["account-delete", "damaged-item"]


def test_the_articles_passages_stand_beside_the_head_and_move_its_reading(bootstrapped):
    _, model_dir, _ = bootstrapped
    model = IntentModel.from_pretrained(model_dir, runtime="native")
    assert model.passages is not None and set(model.passages.columns) == set(range(len(GROUPS)))

    text = "can I get dawn delivery to my area"
    embedding = model.encode([text])
    with_passages = model.predict_encoded([text], embedding)[0]
    model.passages = None
    head_alone = model.predict_encoded([text], embedding)[0]

    assert with_passages.intent == head_alone.intent == "dawn-delivery"
    assert with_passages.top_intents[1][1] != pytest.approx(head_alone.top_intents[1][1])


def test_a_class_without_passages_scores_as_the_least_similar():
    evidence = PassageEvidence(np.eye(3, dtype=np.float32)[:2], np.array([0, 2]), weight=10.0)

    similarities = evidence.similarities(np.array([[0.6, 0.8, 0.0]], dtype=np.float32), class_count=3)

    assert similarities[0].tolist() == pytest.approx([0.6, 0.6, 0.8])


def test_a_bootstrapped_bot_answers_with_the_articles_lead_and_link(bootstrapped, tmp_path):
    articles, model_dir, _ = bootstrapped
    model = IntentModel.from_pretrained(model_dir)
    index = ArticleIndex.build(read_articles(articles).articles, model.encoder)
    answers = json.loads((model_dir / "answers.json").read_text(encoding="utf-8"))
    settings = Settings(
        api_keys_file=tmp_path / "keys.json",
        database_url=f"sqlite:///{tmp_path / 'events.db'}",
        answers_file=model_dir / "answers.json",
        answers_overrides_file=tmp_path / "answers.json",
    )

    with api_clients(settings, model, index, widget=Role.WIDGET) as clients:
        reply = clients["widget"].post("/v1/suggest", json={"text": "택배 상자가 찌그러지고 안의 물건이 깨져서 왔어요"})

    body = reply.json()
    assert reply.status_code == 200
    assert body["intent"]["intent"] == "damaged-item"
    assert body["articles"][0]["id"].startswith("damaged-item")
    assert body["decision"] == "bot_answer", body["reason"]
    lead = answers["damaged-item"]["ko"].split(" 자세한 내용은")[0]
    assert body["answer"]["text"].startswith(lead) and body["answer"]["url"] in body["answer"]["text"]


def test_reviewed_messages_graduate_a_bootstrapped_deployment(bootstrapped, tmp_path, capsys):
    articles, _, _ = bootstrapped
    reviewed = tmp_path / "reviewed.csv"
    rows = [
        ("please remove my membership and all my data", "account-delete", "en"),
        ("탈퇴하고 싶은데 어디서 해요", "account-delete", "ko"),
        ("the discount code says it is not valid", "coupon-use", "en"),
        ("쿠폰 번호 넣는 칸이 어디 있어요", "coupon-use", "ko"),
        ("the glass came in pieces", "damaged-item", "en"),
        ("화면에 금이 간 채로 왔어요", "damaged-item", "ko"),
        ("does early morning delivery reach my apartment", "dawn-delivery", "en"),
        ("새벽에 받을 수 있는 지역인가요", "dawn-delivery", "ko"),
    ]
    reviewed.write_text("text,label,locale\n" + "".join(f"{t},{label},{loc}\n" for t, label, loc in rows))
    out = tmp_path / "graduated"

    assert main(["train", "--articles", str(articles), "--include-reviewed", str(reviewed), "--out", str(out)]) == 0

    assert "graduated from" in capsys.readouterr().out
    model = IntentModel.from_pretrained(out)
    assert sorted(model.intents) == sorted(GROUPS)
    graduated = model.manifest["bootstrap"]["graduated"]
    assert graduated["reviewed_messages"] == 8 and "fewer than 50 reviewed" in graduated["calibrated_on"]
    assert "Graduated from a bootstrapped model" in (out / "README.md").read_text()
    assert model.predict(["쿠폰이 적용이 안 돼요"])[0].intent == "coupon-use"


def test_a_reviewed_label_that_names_no_article_group_is_refused(bootstrapped, tmp_path, capsys):
    articles, _, _ = bootstrapped
    reviewed = tmp_path / "reviewed.csv"
    reviewed.write_text("text,label,locale\nwhere is my parcel,delivery_status,en\n")

    code = main(
        ["train", "--articles", str(articles), "--include-reviewed", str(reviewed), "--out", str(tmp_path / "m")]
    )

    assert code == 2
    assert "reviewed labels name no article group" in capsys.readouterr().err


def test_bootstrap_refuses_a_help_center_with_one_group(tmp_path, capsys):
    (tmp_path / "en").mkdir()
    shutil.copy(DEMO_DIR / "articles" / "en" / "coupon-use.md", tmp_path / "en" / "coupon-use.md")

    assert main(["bootstrap", "--articles", str(tmp_path), "--out", str(tmp_path / "model")]) == 2

    assert "at least 2 article groups, found 1" in capsys.readouterr().err
