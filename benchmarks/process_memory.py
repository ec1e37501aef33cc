"""Memory of a server process and its workers, read from /proc (Linux).

RSS counts every page a process maps, shared or not, so the RSS of workers forked after the model was loaded adds up
to more than the machine holds; PSS divides each shared page among the processes that share it, so the PSS of a
server's processes adds up to what it really costs, and USS is what a process holds alone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessMemory:
    pid: int
    rss_mib: float
    pss_mib: float
    uss_mib: float
    peak_rss_mib: float


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (the supervisor and its workers), parents first."""
    tree, index = [pid], 0
    while index < len(tree):
        for task in Path(f"/proc/{tree[index]}/task").iterdir():
            children = (task / "children").read_text().split()
            tree += [int(child) for child in children]
        index += 1
    return tree


def memory_of(pid: int) -> ProcessMemory:
    status = _kib_fields(Path(f"/proc/{pid}/status"))
    rollup = _kib_fields(Path(f"/proc/{pid}/smaps_rollup"))
    return ProcessMemory(
        pid=pid,
        rss_mib=round(rollup["Rss"] / 1024, 1),
        pss_mib=round(rollup["Pss"] / 1024, 1),
        uss_mib=round((rollup["Private_Clean"] + rollup["Private_Dirty"]) / 1024, 1),
        peak_rss_mib=round(status["VmHWM"] / 1024, 1),
    )


def _kib_fields(path: Path) -> dict[str, int]:
    fields = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            fields[name] = int(parts[0])
    return fields
