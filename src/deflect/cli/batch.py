"""`deflect predict` and `deflect search`: intents, or help-center articles, for every row of a CSV or JSONL file,
written to a .csv or .jsonl file."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deflect.core.atomic import atomic_file
from deflect.core.errors import DataFormatError

if TYPE_CHECKING:
    from deflect.cli.common import Commands


def write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write to a temporary sibling first, so an interrupted run never leaves a truncated output file."""
    with atomic_file(path, newline="") as handle:
        if path.suffix.lower() == ".csv":
            fields = list(dict.fromkeys(key for row in rows for key in row))
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
        else:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _check_output_suffix(path: Path) -> None:
    if path.suffix.lower() not in (".csv", ".jsonl"):
        raise DataFormatError(path, "the output file must end in .csv or .jsonl")


def _prediction_row(row: dict[str, Any], prediction: Any, csv_cells: bool) -> dict[str, Any]:
    top = [{"intent": intent, "score": round(score, 4)} for intent, score in prediction.top_intents]
    result = {
        **row,
        "intent": prediction.intent,
        "confidence": round(prediction.confidence, 4),
        "out_of_scope": prediction.out_of_scope,
        "top_intents": top,
    }
    if csv_cells:
        result["out_of_scope"] = "true" if prediction.out_of_scope else "false"
        result["top_intents"] = json.dumps(top, ensure_ascii=False)
    return result


def _predict(args: argparse.Namespace) -> int:
    from deflect.ingest.utterances import read_rows
    from deflect.intent.model import IntentModel

    output = Path(args.output)
    _check_output_suffix(output)
    rows = read_rows(args.input)
    model = IntentModel.from_pretrained(args.model)
    predictions = model.predict([row["text"] for row in rows], show_progress=True)
    csv_cells = output.suffix.lower() == ".csv"
    write_rows(output, [_prediction_row(r, p, csv_cells) for r, p in zip(rows, predictions, strict=True)])
    rejected = sum(p.out_of_scope for p in predictions)
    print(f"{output}: {len(rows)} predictions ({rejected} out of scope)")
    return 0


def _search(args: argparse.Namespace) -> int:
    from deflect.core.text import detect_locale, normalize_text
    from deflect.ingest.utterances import read_rows
    from deflect.intent.model import IntentModel
    from deflect.retrieval.index import ArticleIndex

    output = Path(args.output)
    _check_output_suffix(output)
    rows = read_rows(args.input)
    model = IntentModel.from_pretrained(args.intent_boost) if args.intent_boost else None
    index = ArticleIndex.load(args.index, encoder=model.encoder if model else None)
    texts = [normalize_text(row["text"]) for row in rows]
    vectors = index.encoder.encode(texts, "query", show_progress=True)
    intents = [dict(p.top_intents) for p in model.predict_encoded(texts, vectors)] if model else [None] * len(rows)
    csv_cells = output.suffix.lower() == ".csv"
    results = []
    for row, text, vector, intent_scores in zip(rows, texts, vectors, intents, strict=True):
        locale = args.locale or row.get("locale") or detect_locale(text)
        hits = index.search(text, vector, args.k, locale=locale, intent_scores=intent_scores)
        articles = [{"article_id": h.article.id, "title": h.article.title, "score": round(h.score, 4)} for h in hits]
        if csv_cells:
            results.append(
                {
                    **row,
                    "article_ids": "|".join(h.article.id for h in hits),
                    "scores": "|".join(str(a["score"]) for a in articles),
                }
            )
        else:
            results.append({**row, "articles": articles})
    write_rows(output, results)
    print(f"{output}: articles for {len(rows)} queries")
    return 0


def add_predict(commands: Commands) -> None:
    predict = commands.add_parser("predict", help="predict intents for a CSV or JSONL file")
    predict.add_argument("--model", required=True, help="model artifact folder")
    predict.add_argument("--input", required=True, help="CSV with a 'text' column or JSONL with a 'text' field")
    predict.add_argument("--output", required=True, help="output .csv or .jsonl")
    predict.set_defaults(run=_predict)


def add_search(commands: Commands) -> None:
    search = commands.add_parser("search", help="find articles for a CSV or JSONL file of queries")
    search.add_argument("--index", required=True, help="index folder")
    search.add_argument("--input", required=True, help="CSV with a 'text' column or JSONL with a 'text' field")
    search.add_argument("--output", required=True, help="output .csv or .jsonl")
    search.add_argument("--k", type=int, default=3, help="articles per query (default 3)")
    search.add_argument("--locale", help="search articles in this locale (default: the row's locale, else detected)")
    search.add_argument("--intent-boost", metavar="MODEL_DIR", help="boost articles linked to this model's intents")
    search.set_defaults(run=_search)
