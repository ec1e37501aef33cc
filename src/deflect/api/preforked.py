"""`deflect serve --workers N`: the model and index are loaded once, then N uvicorn workers are forked from the
process that holds them, so every worker reads the same physical pages (ONNX Runtime's weights, Kiwi's model, the
index) instead of loading a copy of its own.

Each worker runs the encoder on one thread (N workers on N cores is where the parallelism comes from; an ONNX Runtime
thread pool would not survive the fork anyway) and builds everything that holds threads, connections or the event
loop after the fork: its service, stores, rate limiter and delivery worker (`create_app` with the loaded suggester).
The batching and Korean-analyser threads restart themselves in a forked child (`os.register_at_fork`).

The supervisor forwards SIGTERM/SIGINT to the workers (they finish the requests under way), restarts a worker that
dies, stops if workers keep dying, and takes its workers with it if it is killed (PR_SET_PDEATHSIG)."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import os
import signal
import socket
import sys
import time
import traceback
from dataclasses import dataclass, field

import uvicorn

from deflect.api.app import create_app, one_thread_per_numeric_call
from deflect.api.process_memory import return_freed_memory
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.lifecycle.activation import warm_up

STARTUP_FAILURE = 3  # uvicorn's exit status when the application's start-up fails
_PR_SET_PDEATHSIG = 1
GRACEFUL_STOP_SECONDS = 30.0
RESTARTS_ALLOWED = 5  # within RESTART_WINDOW_SECONDS; more means something is wrong that a restart will not fix
RESTART_WINDOW_SECONDS = 60.0
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    workers: int
    forwarded_allow_ips: str | list[str] | None = None
    log_level: str = "info"


@dataclass
class _Supervisor:
    options: ServeOptions
    settings: Settings
    suggester: Suggester
    listening: socket.socket
    workers: dict[int, int] = field(default_factory=dict)  # pid → slot
    restarts: list[float] = field(default_factory=list)
    stopping: bool = False

    def start_worker(self, slot: int) -> None:
        # until the worker has its own handlers, a stop signal waits (it must not run the supervisor's handler)
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        pid = os.fork()
        if pid == 0:
            _run_worker(self.options, self.settings, self.suggester, self.listening)  # never returns
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        self.workers[pid] = slot
        _say(f"worker {slot} started (pid {pid})")

    def stop(self, signum: int, _frame: object) -> None:
        if not self.stopping:
            _say(f"stopping {len(self.workers)} worker(s) ({signal.Signals(signum).name})")
        self.stopping = True
        for pid in self.workers:
            _signal(pid, signal.SIGTERM)

    def supervise(self) -> int:
        """Until every worker has exited after a stop; returns the exit status of the command."""
        status = 0
        deadline: float | None = None
        while self.workers:
            if self.stopping and deadline is None:
                deadline = time.monotonic() + GRACEFUL_STOP_SECONDS
            if deadline is not None and time.monotonic() > deadline:
                for pid in self.workers:
                    _signal(pid, signal.SIGKILL)
            pid, wait_status = _reap()
            if pid == 0:
                time.sleep(0.2)
                continue
            slot = self.workers.pop(pid)
            if self.stopping:
                continue
            code = os.waitstatus_to_exitcode(wait_status)
            _say(f"worker {slot} (pid {pid}) exited with status {code}")
            if code == STARTUP_FAILURE or self._restarting_too_often():
                _say("not restarting it: stopping the other workers")
                status = STARTUP_FAILURE if code == STARTUP_FAILURE else 1
                self.stop(signal.SIGTERM, None)
                continue
            self.start_worker(slot)
        return status

    def _restarting_too_often(self) -> bool:
        now = time.monotonic()
        self.restarts = [at for at in self.restarts if now - at < RESTART_WINDOW_SECONDS] + [now]
        return len(self.restarts) > RESTARTS_ALLOWED


def serve_preforked(settings: Settings, options: ServeOptions) -> int:
    """Load once, fork `options.workers` workers on one listening socket, supervise them; returns the exit status."""
    if settings.threads not in (None, 1):
        print(f"note: DEFLECT_THREADS={settings.threads} is ignored with workers: each runs its encoder on one thread")
    settings = settings.model_copy(update={"threads": 1})
    listening = uvicorn.Config(None, host=options.host, port=options.port).bind_socket()  # type: ignore[arg-type]
    with one_thread_per_numeric_call():  # no OpenMP or BLAS pool is started before the fork
        suggester = Suggester.load(settings)
        warm_up(suggester)  # Kiwi's lazily built tables too are shared
    gc.collect()
    gc.freeze()  # the collector never touches (and so never copies) the objects loaded before the fork
    return_freed_memory()
    supervisor = _Supervisor(options, settings, suggester, listening)
    for signum in _STOP_SIGNALS:
        signal.signal(signum, supervisor.stop)
    for slot in range(options.workers):
        supervisor.start_worker(slot)
    return supervisor.supervise()


def _run_worker(options: ServeOptions, settings: Settings, suggester: Suggester, listening: socket.socket) -> None:
    status = 0
    try:
        _die_with_parent()
        os.setpgid(0, 0)  # a terminal's Ctrl-C reaches the supervisor, which stops each worker once
        for signum in _STOP_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        config = uvicorn.Config(
            create_app(settings, suggester),
            log_level=options.log_level,
            forwarded_allow_ips=options.forwarded_allow_ips,
        )
        uvicorn.Server(config).run(sockets=[listening])
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:  # a worker must never fall back into the supervisor's loop
        traceback.print_exc()
        status = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _say(message: str) -> None:
    print(f"deflect: {message}", file=sys.stderr, flush=True)


def _reap() -> tuple[int, int]:
    try:
        return os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return 0, 0


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it has just exited
        os.kill(pid, signum)


def _die_with_parent() -> None:
    """Linux: the kernel sends the worker SIGTERM when the supervisor dies, even by SIGKILL."""
    name = ctypes.util.find_library("c")
    if sys.platform.startswith("linux") and name:
        ctypes.CDLL(name).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
