from __future__ import annotations

from pathlib import Path


class DataFormatError(ValueError):
    """A data file that cannot be read as asked; the message names the file, the place and the problem."""

    def __init__(self, path: str | Path, problem: str, *, line: int | None = None, record: str | None = None):
        self.path = str(path)
        self.problem = problem
        self.line = line
        self.record = record
        where = self.path
        if line is not None:
            where += f", line {line}"
        if record is not None:
            where += f", {record}"
        super().__init__(f"{where}: {problem}")
