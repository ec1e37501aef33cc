"""`deflect serve`: start the HTTP API on the given (else the registry's active) model + index, optionally with
fresh demo API keys."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deflect.cli.common import Commands
    from deflect.core.settings import Settings


def _with_registry_model(settings: Settings) -> Settings:
    """Serve the registry's active model + index when neither was given (command line or environment)."""
    from deflect.core.settings import Settings
    from deflect.lifecycle.registry import registry_model

    explicit = bool({"model_dir", "index_dir"} & settings.model_fields_set)
    entry = registry_model(settings.model_registry_file, explicit)
    if entry is None:
        return settings
    os.environ["DEFLECT_MODEL_DIR"], os.environ["DEFLECT_INDEX_DIR"] = entry.model_dir, entry.index_dir
    print(f"serving model {entry.model_version} + {entry.index_dir}, active in {settings.model_registry_file}")
    return Settings()


def _issue_demo_keys(path: Path) -> str:
    """Fresh demo keys on every start (the previous demo keys are revoked), printed once. Returns the widget key."""
    from deflect.api.auth import KeyStore, Role

    store = KeyStore(path)
    issued: dict[Role, str] = {}
    for role in Role:
        store.revoke(f"demo-{role.value}")
        issued[role], _ = store.create(f"demo-{role.value}", role)
        print(f"{role.value} API key: {issued[role]}", flush=True)
    return issued[Role.WIDGET]


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from deflect.core.settings import Settings

    if args.workers < 1:
        print(f"error: --workers {args.workers}: give at least 1 worker", file=sys.stderr)
        return 2

    # Workers are separate processes that read their settings from the environment: pass the overrides that way.
    for variable, value in (("DEFLECT_MODEL_DIR", args.model), ("DEFLECT_INDEX_DIR", args.index)):
        if value:
            os.environ[variable] = str(value)
    settings = _with_registry_model(Settings())
    host, port = args.host or settings.host, args.port or settings.port
    if args.demo_keys:
        os.environ["DEFLECT_DEMO_WIDGET_KEY"] = _issue_demo_keys(settings.api_keys_file)
    if args.workers > 1 and not settings.redis_url:
        print(
            "note: without REDIS_URL each worker keeps its own conversations, rate limits and review sign-outs;"
            " set it to share them",
            file=sys.stderr,
        )
    print(
        f"Deflect on http://{host}:{port}  —  API docs: http://{host}:{port}/docs  —  "
        f"health: http://{host}:{port}/healthz  —  {args.workers} worker(s)",
        flush=True,
    )
    if args.demo_keys:
        print(f"demo store with the chat widget: http://{host}:{port}/", flush=True)
    if args.workers > 1:
        from deflect.api.preforked import ServeOptions, serve_preforked

        options = ServeOptions(host, port, args.workers, settings.forwarded_allow_ips)
        return serve_preforked(settings, options)
    uvicorn.run(
        "deflect.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        log_level="info",
        forwarded_allow_ips=settings.forwarded_allow_ips,  # the client address the visitor limits count by
    )
    return 0


def add_serve(commands: Commands) -> None:
    serve = commands.add_parser("serve", help="start the HTTP API")
    serve.add_argument("--model", help="model artifact folder (default: DEFLECT_MODEL_DIR or models/demo)")
    serve.add_argument("--index", help="index folder (default: DEFLECT_INDEX_DIR or indexes/demo)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--demo-keys", action="store_true", help="issue and print a widget and an admin API key")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes forked after the model is loaded, so they share its memory (and state through REDIS_URL)",
    )
    serve.set_defaults(run=_serve)
