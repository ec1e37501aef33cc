"""Memory a serving process gives back to the machine once its model is loaded (glibc, Linux)."""

from __future__ import annotations

import ctypes
import ctypes.util


def return_freed_memory() -> None:
    """glibc keeps what was freed while loading (the model file's bytes, parsing buffers) unless asked to give it
    back: the worker's resident memory is then what it uses."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
