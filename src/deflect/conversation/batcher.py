"""Micro-batching: texts from concurrent requests are processed together, one model call per batch.

A request thread hands its text to one batching thread and waits. That thread takes every text waiting when it
becomes free (up to `max_batch`), so a lone request is processed at once and, under load, requests that arrive
while a batch is running share the next one: one call over 32 short texts costs far less than 32 calls, and one
thread doing the numeric work keeps the BLAS and ONNX Runtime thread pools from fighting over the cores."""

from __future__ import annotations

import os
import queue
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from functools import partial
from typing import Any, Generic, TypeVar

Result = TypeVar("Result")


class MicroBatcher(Generic[Result]):
    def __init__(
        self, process_batch: Callable[[list[str]], Sequence[Result]], max_batch: int = 32, name: str = "batcher"
    ):
        self._process_batch = process_batch
        self.max_batch = max_batch
        self._pending: queue.SimpleQueue[tuple[str, Future[Result]] | None] = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()  # a text is queued before the stop sign or processed by its caller, never lost
        self._name = name
        self._start_thread()
        # A worker forked from the process that loaded the model (`deflect serve --workers N`) has no batching thread.
        os.register_at_fork(after_in_child=partial(_restart_after_fork, weakref.ref(self)))

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def submit(self, text: str, timeout: float | None = 30.0) -> Result:
        """The result for one text, computed in the next batch; blocks the calling thread until it is ready. After
        `close()` (a request still running on a model that was just swapped out) the caller processes it itself."""
        future: Future[Result] = Future()
        with self._lock:
            closed = self._closed
            if not closed:
                self._pending.put((text, future))
        if closed:
            return self._process_batch([text])[0]
        return future.result(timeout)

    def close(self) -> None:
        """Process what is waiting, then stop the batching thread (which lets the model it holds be freed)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._pending.put(None)

    def _run(self) -> None:
        while True:
            first = self._pending.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._pending.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._process(batch)
            if stop:
                return

    def _process(self, batch: list[tuple[str, Future[Result]]]) -> None:
        try:
            results = self._process_batch([text for text, _ in batch])
        except Exception as error:  # every waiting request gets the error, the thread lives on
            for _, future in batch:
                future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)


def _restart_after_fork(batcher_ref: weakref.ref[MicroBatcher[Any]]) -> None:
    """In a forked child: a fresh queue and lock (nothing was waiting at the fork) and a batching thread of its own."""
    batcher = batcher_ref()
    if batcher is None or batcher._closed:
        return
    batcher._pending = queue.SimpleQueue()
    batcher._lock = threading.Lock()
    batcher._start_thread()
