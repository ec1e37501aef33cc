"""`deflect eval`: evaluate a model on labelled data per locale; with an index or a second model, also article
recall, latency and an HTML report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deflect.cli.common import data_name

if TYPE_CHECKING:
    from deflect.cli.common import Commands


def _eval(args: argparse.Namespace) -> int:
    from deflect.evaluation.intents import evaluate_intent_model, format_intent_report
    from deflect.ingest.utterances import load_utterances
    from deflect.intent.model import IntentModel

    model = IntentModel.from_pretrained(args.model, runtime=args.runtime)
    if not (args.report or args.compare or args.index):
        report = evaluate_intent_model(model, args.data, split=args.split)
        print(format_intent_report(report))
        _write_json_report(args.output, report)
        return 0

    from deflect.evaluation.report import evaluate_model, write_report
    from deflect.retrieval.index import ArticleIndex

    utterances = load_utterances(args.data, args.split)
    name = data_name(args)
    evaluations = []
    for folder, index_dir in ((args.model, args.index), (args.compare, args.compare_index or args.index)):
        if folder is None:
            continue
        candidate = model if folder == args.model else IntentModel.from_pretrained(folder, runtime=args.runtime)
        index = ArticleIndex.load(index_dir, encoder=candidate.encoder) if index_dir else None
        evaluation = evaluate_model(candidate, utterances, index, name=Path(folder).name)
        evaluations.append(evaluation)
        report = {
            "data": name,
            "model_version": evaluation.version,
            **evaluation.metrics,
            "ece_in_scope": evaluation.metrics["ece_in_scope"],
            "per_locale": evaluation.per_locale,
            "retrieval": evaluation.retrieval,
            "latency_ms": evaluation.latency_ms,
        }
        print(format_intent_report(report))
        if evaluation.retrieval:
            print("articles: " + ", ".join(f"{k} {v:.3f}" for k, v in evaluation.retrieval.items() if k != "queries"))
        print("latency per message: " + ", ".join(f"{k} {v:.1f} ms" for k, v in evaluation.latency_ms.items()))
        if folder == args.model:
            _write_json_report(args.output, report)
    out = Path(args.report or Path("evaluation/reports") / "-vs-".join(e.name for e in evaluations))
    print(f"wrote {write_report(evaluations, out, name)}")
    return 0


def _write_json_report(output: str | None, report: dict[str, Any]) -> None:
    if output:
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")


def add_eval(commands: Commands) -> None:
    evaluate = commands.add_parser("eval", help="evaluate a model on labelled data, per locale")
    evaluate.add_argument("--model", required=True)
    evaluate.add_argument("--data", required=True, help="labelled data (file or folder)")
    evaluate.add_argument("--split", default="test", help="split to read from a folder or benchmark (default test)")
    evaluate.add_argument("--output", help="also write the report as JSON here")
    evaluate.add_argument("--index", help="article index: adds article Recall@k and search to the latency")
    evaluate.add_argument("--compare", metavar="CANDIDATE_DIR", help="a second model, side by side with deltas")
    evaluate.add_argument("--compare-index", help="the candidate's index, if its encoder differs (default --index)")
    evaluate.add_argument(
        "--report",
        metavar="DIR",
        help="write an HTML report with plots here (default with --index or --compare: evaluation/reports/NAME)",
    )
    evaluate.add_argument(
        "--runtime",
        choices=["auto", "native", "onnx"],
        default="auto",
        help="encoder: the model's ONNX export if it has one (auto), the original (native), or the export (onnx)",
    )
    evaluate.set_defaults(run=_eval)
