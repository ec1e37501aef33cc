"""The notebooks run end to end (on small data) and are committed without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.parametrize("name", ["banking77_end_to_end.ipynb", "handoff_threshold.ipynb"])
def test_notebook_runs_and_is_stored_without_outputs(
    name: str, shared_datasets: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")

    monkeypatch.setenv("DEFLECT_NOTEBOOK_QUICK", "1")  # the kernel inherits it: small data
    client = NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": NOTEBOOKS}})
    client.execute()

    printed = "".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", []) if "text" in output
    )
    assert "Error" not in printed
    if name == "handoff_threshold.ipynb":
        assert "deploy with: DEFLECT_ANSWER_THRESHOLD=" in printed
    else:
        assert "accuracy_before_rejection" in printed and "report.html" in printed
    nbformat.write(notebook, tmp_path / name)  # the executed copy, for a look when it fails
