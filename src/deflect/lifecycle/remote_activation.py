"""Ask a running Deflect server to activate a model + index version (`POST /admin/models/activate`) and wait until
`GET /admin/models/activation` reports the outcome."""

from __future__ import annotations

import time
from pathlib import Path

import httpx


class RemoteActivationError(RuntimeError):
    """The server could not be reached, refused the request, or failed to load the pair."""


def _reason(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text.strip()[:200] or response.reason_phrase


def activate_on_server(
    server: str,
    admin_key: str,
    model_dir: str | Path,
    index_dir: str | Path,
    *,
    timeout_seconds: float = 300.0,
    poll_seconds: float = 0.2,
) -> str:
    """Returns the model version the server then serves. The folders are paths on the server's machine."""
    body = {"model": str(model_dir), "index": str(index_dir)}
    headers = {"Authorization": f"Bearer {admin_key}"}
    try:
        with httpx.Client(base_url=server.rstrip("/"), headers=headers, timeout=30) as client:
            started = client.post("/admin/models/activate", json=body)
            if started.status_code != 202:
                raise RemoteActivationError(
                    f"{server} refused to activate {model_dir} + {index_dir}: "
                    f"HTTP {started.status_code}, {_reason(started)}"
                )
            deadline = time.monotonic() + timeout_seconds
            while True:
                polled = client.get("/admin/models/activation")
                if polled.status_code != 200:
                    raise RemoteActivationError(
                        f"{server}: activation status unreadable: HTTP {polled.status_code}, {_reason(polled)}"
                    )
                state = polled.json()
                if state["status"] != "loading":
                    break
                if time.monotonic() > deadline:
                    raise RemoteActivationError(f"{server} was still loading after {timeout_seconds:.0f} s")
                time.sleep(poll_seconds)
    except httpx.HTTPError as error:
        raise RemoteActivationError(f"cannot reach {server}: {error}") from None
    if state["status"] != "active" or state["requested_model"] != str(model_dir):
        raise RemoteActivationError(
            f"{server} did not activate {model_dir}: {state.get('error') or state['status']}; it still serves "
            f"model {state['active_model_version']}"
        )
    return str(state["active_model_version"])
