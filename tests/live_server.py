"""A real uvicorn server on a free loopback port, and headless Debian Chromium driven by Playwright: what the
browser tests share. Screenshots go to `tests/screenshots/` (kept out of git), where CI logs can point."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_receiver(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """A threaded loopback HTTP server answering with `handler`, running until `.shutdown()`: the stand-in for a
    helpdesk, a webhook receiver or a vendor's API in the tests."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_for(condition: Callable[[], object], seconds: float = 15.0) -> None:
    """Poll `condition` until it holds or `seconds` pass (the test's assertions then say which)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def address(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@contextmanager
def serving(app: FastAPI, deadline_seconds: float = 120) -> Iterator[str]:
    """Run `app` until the block ends; yields its base URL once it accepts requests."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + deadline_seconds
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def start_deflect_serve(
    model_dir: Path, index_dir: Path, tmp_path: Path, database_url: str, port: int, workers: int = 1, **settings: str
) -> subprocess.Popen:
    """A real `deflect serve [--workers N]` process on `port`, storing its events in `database_url`; returns once it
    is ready. `settings` are more DEFLECT_* variables, by their lower-case names without the prefix."""
    env = {
        **os.environ,
        "DEFLECT_API_KEYS_FILE": str(tmp_path / "keys.json"),
        "DEFLECT_DATABASE_URL": database_url,
        "DEFLECT_ANSWERS_OVERRIDES_FILE": str(tmp_path / "answers.json"),
        "DEFLECT_RATE_LIMIT_PER_MINUTE": "1000000",
        **{f"DEFLECT_{name.upper()}": value for name, value in settings.items()},
    }
    env.pop("REDIS_URL", None)
    command = [sys.executable, "-m", "deflect.cli.main", "serve", "--model", str(model_dir), "--index", str(index_dir)]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("deflect serve did not become ready")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian Chromium, never a downloaded browser."""
    if not CHROMIUM.is_file():
        pytest.fail("Debian chromium is not at /usr/bin/chromium (`make setup` runs apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
