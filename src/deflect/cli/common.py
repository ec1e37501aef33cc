"""Helpers more than one command module shares: the type of the subcommand table each module adds its commands to,
how a command names the labelled data it read, a database URL fit to print, and the audit entry of a change."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from deflect.store.events import EventStore

    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def data_name(args: argparse.Namespace) -> str:
    """How reports and records name the labelled data a command read: its path and split."""
    return f"{args.data} ({args.split})"


def safe_url(url: str) -> str:
    """A database URL with its password masked."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def record_change(action: str, target: str, details: dict[str, Any], store: EventStore | None = None) -> None:
    """Write a change made at the command line to the audit trail, as `cli:<user>`: through `store` when the
    command has the event database open, else through the configured one. The change is made either way: when the
    event database cannot be reached, a warning says it is missing from the trail."""
    from sqlalchemy.exc import SQLAlchemyError

    from deflect.core.settings import Settings
    from deflect.store.audit import AuditLog, command_line_actor
    from deflect.store.events import EventStore

    url = store.url if store is not None else Settings().database_url
    try:
        events = store or EventStore.open(url)
        try:
            AuditLog(events).record(command_line_actor(), action, target, details)
        finally:
            if store is None:
                events.close()
    except (SQLAlchemyError, OSError) as error:
        print(f"warning: {action} on {target} is not in the audit trail of {safe_url(url)}: {error}", file=sys.stderr)
