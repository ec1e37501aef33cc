"""`deflect deliveries`: the outbox's deliveries — list those pending or dead-lettered, send one again, discard one."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from deflect.cli.common import record_change

if TYPE_CHECKING:
    from deflect.cli.common import Commands


def _deliveries(args: argparse.Namespace) -> int:
    from deflect.core.settings import Settings
    from deflect.store.events import EventStore
    from deflect.store.outbox import DeliveryStateError, Outbox

    store = EventStore.open(args.database_url or Settings().database_url)
    outbox = Outbox(store)
    try:
        if args.action == "list":
            figures = outbox.figures()
            counts = ", ".join(f"{count} {status}" for status, count in figures.counts.items())
            print(f"{counts}; oldest pending {figures.oldest_pending_seconds:.0f} s")
            for view in outbox.list(args.status, args.limit):
                error = f"  {view.last_error}" if view.last_error else ""
                print(
                    f"{view.id}  {view.status:<9} {view.topic}→{view.target}  {view.conversation_id}  "
                    f"{view.attempts} attempt(s)  {view.created_at:%Y-%m-%d %H:%M:%S}{error}"
                )
            return 0
        if not args.id:
            print(f"deflect deliveries: error: {args.action} needs --id", file=sys.stderr)
            return 2
        try:
            view = outbox.retry(args.id) if args.action == "retry" else outbox.discard(args.id)
        except (LookupError, DeliveryStateError) as error:
            print(f"deflect deliveries: error: {error}", file=sys.stderr)
            return 2
        details = {"topic": view.topic, "target": view.target}
        record_change(f"delivery.{args.action}", f"delivery:{view.id}", details, store)
        print(f"{view.id}: {view.status} (a running server sends it within its poll interval)")
        return 0
    finally:
        store.close()


def add_deliveries(commands: Commands) -> None:
    deliveries = commands.add_parser(
        "deliveries", help="list outbox deliveries (pending, dead-lettered), send one again or discard it"
    )
    deliveries.add_argument("action", choices=["list", "retry", "discard"])
    deliveries.add_argument("--id", help="retry / discard: the delivery id")
    deliveries.add_argument("--status", choices=["pending", "delivered", "dead", "discarded"], help="list: only these")
    deliveries.add_argument("--limit", type=int, default=50, help="list: at most this many, newest first")
    deliveries.add_argument(
        "--database-url", help="event database (default: DATABASE_URL or the settings' SQLite file)"
    )
    deliveries.set_defaults(run=_deliveries)
