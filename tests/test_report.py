"""`deflect eval --report`: a self-contained HTML report, for one model or two side by side."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deflect.cli.main import main
from deflect.core.demo import DEMO_DIR
from deflect.evaluation.report import coverage_curve


def test_coverage_counts_only_kept_confident_messages_and_their_wrong_answers() -> None:
    confidences = np.array([0.9, 0.8, 0.6, 0.3])
    rejected = np.array([False, False, False, True])
    right = np.array([True, False, True, False])

    curve = coverage_curve(confidences, rejected, right, chosen=0.7, points=11)

    points = zip(curve.thresholds, curve.coverage, curve.wrong_rate, strict=True)
    at = {round(float(t), 1): (c, w) for t, c, w in points}
    assert at[0.0] == (0.75, pytest.approx(1 / 3))  # the rejected message is never answered
    assert at[0.7] == (0.5, 0.5)
    assert at[0.9] == (0.25, 0.0)
    assert at[1.0] == (0.0, 0.0)


def test_a_two_model_report_shows_every_figure_side_by_side(
    demo_model_dir: Path, demo_index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "report"
    arguments = ["eval", "--model", str(demo_model_dir), "--data", str(DEMO_DIR), "--index", str(demo_index_dir)]

    assert main([*arguments, "--compare", str(demo_model_dir), "--report", str(out)]) == 0

    printed = capsys.readouterr().out
    assert "recall@3" in printed and "latency per message" in printed
    page = (out / "report.html").read_text(encoding="utf-8")
    for section in ("Metrics", "Answer coverage", "Calibration", "Per intent", "Top confusions"):
        assert f"<h2>{section}</h2>" in page
    assert "articles recall@3" in page and "latency p99" in page
    assert "+0.00 pt" in page  # the same model twice: no change anywhere
    assert page.count("data:image/png;base64,") == 3  # coverage + two reliability diagrams, embedded
    assert {p.name for p in out.glob("*.png")} == {"coverage.png", "reliability_1.png", "reliability_2.png"}
