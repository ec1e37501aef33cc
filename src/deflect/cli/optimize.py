"""`deflect optimize`: export a model's encoder to ONNX Runtime with int8 weights, kept only if it stays accurate
on labelled data."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from deflect.cli.common import data_name

if TYPE_CHECKING:
    from deflect.cli.common import Commands


def _optimize(args: argparse.Namespace) -> int:
    from deflect.export.optimize import current_report, optimize_artifact
    from deflect.ingest.utterances import load_utterances

    if not args.force and (report := current_report(args.model)) is not None:
        print(f"{args.model}: ONNX export up to date (model {report['model_version']}; use --force to redo it)")
        return 0
    check = load_utterances(args.data, args.split)
    checked_on = data_name(args)
    print(f"exporting the encoder of {args.model}, then checking it on {len(check)} utterances of {checked_on}")
    result = optimize_artifact(args.model, check, checked_on=checked_on, max_accuracy_drop=args.max_accuracy_drop / 100)
    print(
        f"{args.model}/onnx: {result.encoder}, weights: {', '.join(f'{p} {w}' for p, w in result.weights.items())}, "
        f"{result.megabytes:.0f} MiB, exported in "
        f"{result.export_seconds:.0f} s\n"
        f"  accuracy {result.accuracy_native:.2%} → {result.accuracy_onnx:.2%}, after out-of-scope rejection "
        f"{result.in_scope_accuracy_native:.2%} → {result.in_scope_accuracy_onnx:.2%} ({result.examples} utterances)\n"
        f"  same decision on {result.decision_agreement:.1%}; cosine to the original vectors: mean "
        f"{result.cosine_mean:.4f}, min {result.cosine_min:.4f}\n"
        "  served from now on (DEFLECT_ENCODER_RUNTIME=native serves the original encoder)"
    )
    return 0


def add_optimize(commands: Commands) -> None:
    optimize = commands.add_parser(
        "optimize", help="export a model's encoder to ONNX Runtime with int8 weights, checked on labelled data"
    )
    optimize.add_argument("--model", required=True, help="model artifact folder; the export goes into its onnx/")
    optimize.add_argument("--data", required=True, help="labelled data to check the export on (file or folder)")
    optimize.add_argument(
        "--split",
        default="validation",
        help="split to read from a folder or benchmark (default validation: the check chooses the weights, so it "
        "must not see the test split)",
    )
    optimize.add_argument(
        "--max-accuracy-drop",
        type=float,
        default=0.3,
        help="keep the export only if accuracy drops by at most this many points (default 0.3)",
    )
    optimize.add_argument("--force", action="store_true", help="export again even if the export is up to date")
    optimize.set_defaults(run=_optimize)
