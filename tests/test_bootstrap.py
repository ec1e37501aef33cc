"""`deflect bootstrap`: a served intent model from a help center alone, with no labelled messages."""

from __future__ import annotations

import shutil
from pathlib import Path

from deflect.cli.main import main
from deflect.core.demo import DEMO_DIR
from deflect.intent.model import IntentModel

GROUPS = ("account-delete", "coupon-use", "damaged-item", "dawn-delivery")


def small_help_center(folder: Path) -> Path:
    for locale in ("en", "ko"):
        (folder / locale).mkdir(parents=True)
        for group in GROUPS:
            shutil.copy(DEMO_DIR / "articles" / locale / f"{group}.md", folder / locale / f"{group}.md")
    return folder


def test_bootstrap_builds_a_model_whose_intents_are_the_article_groups(tmp_path, capsys):
    articles = small_help_center(tmp_path / "articles")

    assert main(["bootstrap", "--articles", str(articles), "--out", str(tmp_path / "model")]) == 0

    printed = capsys.readouterr().out
    assert "4 intents (one per article group)" in printed
    model = IntentModel.from_pretrained(tmp_path / "model")
    assert sorted(model.intents) == sorted(GROUPS)
    assert model.manifest["bootstrap"]["articles_count"] == 8
    assert "Bootstrapped from a help center alone" in (tmp_path / "model" / "README.md").read_text()
    assert model.display_name("account-delete", "ko") == "회원 탈퇴는 어떻게 하나요?"
    predictions = model.predict(["I want to close my account for good", "택배가 부서져서 왔어요"])
    assert [p.intent for p in predictions] == ["account-delete", "damaged-item"]


def test_bootstrap_refuses_a_help_center_with_one_group(tmp_path, capsys):
    (tmp_path / "en").mkdir()
    shutil.copy(DEMO_DIR / "articles" / "en" / "coupon-use.md", tmp_path / "en" / "coupon-use.md")

    assert main(["bootstrap", "--articles", str(tmp_path), "--out", str(tmp_path / "model")]) == 2

    assert "at least 2 article groups, found 1" in capsys.readouterr().err
