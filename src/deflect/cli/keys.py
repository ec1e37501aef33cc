"""`deflect keys`: create, list or revoke the API keys of the service's key file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from deflect.cli.common import record_change

if TYPE_CHECKING:
    from deflect.cli.common import Commands


def _keys(args: argparse.Namespace) -> int:
    from deflect.api.auth import KeyStore, Role
    from deflect.core.settings import Settings

    store = KeyStore(Path(args.file) if args.file else Settings().api_keys_file)
    if args.action in ("create", "revoke") and not args.name:
        print(f"deflect keys: error: {args.action} needs --name", file=sys.stderr)
        return 2
    if args.action == "create":
        secret, key = store.create(args.name, Role(args.role), args.rate_limit)
        details = {"name": key.name, "role": key.role.value, "prefix": key.prefix, "rate_limit": args.rate_limit}
        record_change("key.create", f"key:{key.id}", {"after": details})
        print(f"{key.role.value} key '{key.name}' (id {key.id}): {secret}")
        print("Shown once: only its hash is stored.")
    elif args.action == "revoke":
        revoked = [key for key in store.records() if args.name in (key.name, key.id)]
        removed = store.revoke(args.name)
        if not removed:
            print(f"deflect keys: error: no key named or with id '{args.name}' in {store.path}", file=sys.stderr)
            return 2
        for key in revoked:
            record_change("key.revoke", f"key:{key.id}", {"before": {"name": key.name, "role": key.role.value}})
        print(f"revoked {removed} key(s)")
    else:
        for key in store.records():
            limit = key.rate_limit_per_minute or "default"
            print(f"{key.id}  {key.name:<20} {key.role.value:<8} {key.prefix}…  limit {limit}/min")
    return 0


def add_keys(commands: Commands) -> None:
    keys = commands.add_parser("keys", help="create, list or revoke API keys")
    keys.add_argument("action", choices=["create", "list", "revoke"])
    keys.add_argument("--name", help="create: a name for the key; revoke: the key's name or id")
    keys.add_argument(
        "--role",
        choices=["widget", "server", "reviewer", "admin"],
        default="widget",
        help="widget: suggest, typeahead, feedback, handoff, in a public page (conversations need their token); "
        "server: the same from your backend, which may name its conversations; reviewer: the review queue "
        "(/review); admin: everything",
    )
    keys.add_argument("--rate-limit", type=int, help="requests per minute for this key (default: the service's)")
    keys.add_argument("--file", help="key file (default: DEFLECT_API_KEYS_FILE or .deflect/api_keys.json)")
    keys.set_defaults(run=_keys)
