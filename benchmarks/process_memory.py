"""Memory of a server process and its workers, read from /proc (Linux)."""

from __future__ import annotations

from pathlib import Path


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (uvicorn's supervisor and its workers), parents first."""
    tree, index = [pid], 0
    while index < len(tree):
        for task in Path(f"/proc/{tree[index]}/task").iterdir():
            children = (task / "children").read_text().split()
            tree += [int(child) for child in children]
        index += 1
    return tree


def memory_of(pid: int) -> tuple[float, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def is_worker(pid: int) -> bool:
    """A worker uvicorn spawned (multiprocessing's spawn entry point), not the supervisor or a helper process."""
    return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
