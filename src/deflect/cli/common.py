"""Helpers more than one command module shares: the type of the subcommand table each module adds its commands to,
how a command names the labelled data it read, and a database URL fit to print."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def data_name(args: argparse.Namespace) -> str:
    """How reports and records name the labelled data a command read: its path and split."""
    return f"{args.data} ({args.split})"


def safe_url(url: str) -> str:
    """A database URL with its password masked."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
