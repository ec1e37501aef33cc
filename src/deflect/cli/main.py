"""The `deflect` entry point (`deflect.cli.main:main`): assembles the parser from the command modules, in the order
`deflect --help` lists the commands, runs the chosen command and turns the errors a user can cause into exit
code 2."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from deflect.api.auth import KeyStoreError
from deflect.cli import (
    batch,
    bootstrap,
    deliveries,
    discover,
    evaluate,
    events,
    index,
    keys,
    models,
    optimize,
    serve,
    train,
)
from deflect.core.artifacts import ArtifactError
from deflect.core.errors import DataFormatError

DESCRIPTION = "`deflect` command line: train, predict, index, eval, serve."
COMMANDS = (
    train.add_train,
    bootstrap.add_bootstrap,
    discover.add_discover,
    batch.add_predict,
    index.add_index,
    batch.add_search,
    evaluate.add_eval,
    optimize.add_optimize,
    serve.add_serve,
    events.add_db,
    events.add_export_reviewed,
    models.add_models,
    events.add_events,
    deliveries.add_deliveries,
    keys.add_keys,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deflect", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    for add_command in COMMANDS:
        add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (DataFormatError, ArtifactError, KeyStoreError) as error:
        print(f"deflect {args.command}: error: {error}", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        print(f"deflect {args.command}: error: the event database failed: {reason}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
