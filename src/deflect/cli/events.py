"""The event database's commands: `deflect db upgrade` (its schema), `deflect events` (purge old events, delete a
conversation's or customer's) and `deflect export-reviewed` (its reviewed labels as training data)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from deflect.cli.common import record_change, safe_url

if TYPE_CHECKING:
    from deflect.cli.common import Commands


def _db(args: argparse.Namespace) -> int:
    from deflect.core.settings import Settings
    from deflect.store.events import migrate

    url = args.url or Settings().database_url
    migrate(url)
    print(f"{safe_url(url)}: schema up to date")
    return 0


def _events(args: argparse.Namespace) -> int:
    from deflect.core.settings import Settings
    from deflect.store.audit import deletion_change
    from deflect.store.events import EventStore
    from deflect.store.retention import purge_expired

    settings = Settings()
    store = EventStore.open(settings.database_url)
    if args.action == "purge":
        days = args.older_than_days or settings.event_retention_days
        deleted = purge_expired(store, days, settings.audit_retention_days)
        print(f"purged {deleted.suggestions} suggestions and {deleted.feedback} feedback older than {days} days")
        return 0
    if bool(args.conversation) == bool(args.customer):
        print("deflect events: error: delete needs exactly one of --conversation or --customer", file=sys.stderr)
        return 2
    if args.conversation:
        deleted = store.delete_conversation(args.conversation)
        record_change(*deletion_change("conversation", args.conversation, deleted), store)
    else:
        deleted = store.delete_customer(args.customer)
        record_change(*deletion_change("customer", args.customer, deleted), store)
    print(
        f"deleted {deleted.suggestions} suggestions, {deleted.feedback} feedback and {deleted.labels} review labels "
        f"from {len(deleted.conversation_ids)} conversation(s) in {safe_url(settings.database_url)}; "
        "live conversation state expires on its own or goes with DELETE /admin/conversations/{id}"
    )
    return 0


def _export_reviewed(args: argparse.Namespace) -> int:
    from deflect.core.settings import Settings
    from deflect.store.events import EventStore
    from deflect.store.reviewed import export_reviewed

    store = EventStore.open(args.database_url or Settings().database_url)
    try:
        print(export_reviewed(store, args.out, customer_choices=not args.without_customer_choices).line())
    finally:
        store.close()
    return 0


def add_db(commands: Commands) -> None:
    database = commands.add_parser("db", help="bring the event database's schema up to date (Alembic)")
    database.add_argument("action", choices=["upgrade"])
    database.add_argument("--url", help="database URL (default: DATABASE_URL or the settings' SQLite file)")
    database.set_defaults(run=_db)


def add_export_reviewed(commands: Commands) -> None:
    export = commands.add_parser("export-reviewed", help="write reviewed labels as CSV and as a Hugging Face dataset")
    export.add_argument("--out", required=True, help="folder for reviewed.csv and dataset/ (replaced if there)")
    export.add_argument("--database-url", help="event database (default: DATABASE_URL or the settings' SQLite file)")
    export.add_argument(
        "--without-customer-choices",
        action="store_true",
        help="leave out the labels customers gave by choosing a clarifying question's option (action "
        "customer_choice); a reviewer's label on the same message is kept",
    )
    export.set_defaults(run=_export_reviewed)


def add_events(commands: Commands) -> None:
    events = commands.add_parser("events", help="purge old stored events or delete a conversation's or customer's")
    events.add_argument("action", choices=["purge", "delete"])
    events.add_argument("--older-than-days", type=int, help="purge: default DEFLECT_EVENT_RETENTION_DAYS (90)")
    events.add_argument("--conversation", help="delete: everything stored for this conversation id")
    events.add_argument("--customer", help="delete: everything stored for this customer id")
    events.set_defaults(run=_events)
