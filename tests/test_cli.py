"""The `deflect` command line as a user runs it: predict files, and clear errors for bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from deflect.cli import main

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
