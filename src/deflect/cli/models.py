"""`deflect models`: compare two models, promote a candidate model + index (gated on labelled data, optionally
activated on a running server), roll back, list the registry, and the shadow report from live traffic."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from deflect.cli.common import data_name, record_change, safe_url

if TYPE_CHECKING:
    from deflect.cli.common import Commands


def _pair_names(first: str, second: str) -> tuple[str, str]:
    names = (Path(first).name, Path(second).name)
    return names if names[0] != names[1] else (first, second)


def _compare(args: argparse.Namespace) -> int:
    from deflect.evaluation.compare import compare_models, format_comparison
    from deflect.evaluation.report import write_report
    from deflect.ingest.utterances import load_utterances
    from deflect.intent.model import IntentModel
    from deflect.retrieval.index import ArticleIndex

    utterances = load_utterances(args.data, args.split)
    first = IntentModel.from_pretrained(args.first, runtime=args.runtime)
    second = IntentModel.from_pretrained(args.second, runtime=args.runtime)
    first_index = second_index = None
    if args.index:
        first_index = ArticleIndex.load(args.index, encoder=first.encoder)
        same_encoder = first.encoder.reference == second.encoder.reference
        second_index = first_index if same_encoder else ArticleIndex.load(args.index, encoder=second.encoder)
    comparison = compare_models(
        first,
        second,
        utterances,
        first_index=first_index,
        second_index=second_index,
        names=_pair_names(args.first, args.second),
    )
    print(data_name(args))
    print(format_comparison(comparison, examples=args.examples))
    if args.report:
        path = write_report([comparison.first, comparison.second], args.report, data_name(args))
        print(f"wrote {path}")
    return 0


def _admin_key(args: argparse.Namespace) -> str | None:
    """The admin key for `--server`; None (after saying so) when the server is given without one."""
    key = args.admin_key or os.environ.get("DEFLECT_ADMIN_KEY")
    if args.server and not key:
        message = "--server needs --admin-key (or DEFLECT_ADMIN_KEY)"
        print(f"deflect models {args.models_command}: error: {message}", file=sys.stderr)
    return key


def _activate_remotely(args: argparse.Namespace, key: str, model_dir: str, index_dir: str) -> bool:
    from deflect.lifecycle.remote_activation import RemoteActivationError, activate_on_server

    print(f"activating {model_dir} + {index_dir} on {args.server} …", flush=True)
    try:
        version = activate_on_server(args.server, key, model_dir, index_dir, timeout_seconds=args.timeout)
    except RemoteActivationError as error:
        print(f"deflect models {args.models_command}: error: {error}; the registry is unchanged", file=sys.stderr)
        return False
    print(f"{args.server} now serves model {version}")
    return True


def _promote(args: argparse.Namespace) -> int:
    from deflect.core.settings import Settings
    from deflect.evaluation.compare import format_comparison, format_gate
    from deflect.ingest.utterances import load_utterances
    from deflect.lifecycle.promotion import check_candidate, plan_promotion, promote
    from deflect.lifecycle.registry import ModelRegistry

    key = _admin_key(args)
    if args.server and not key:
        return 2
    settings = Settings()
    registry = ModelRegistry(settings.model_registry_file)
    plan = plan_promotion(registry, args.candidate, args.index, settings.model_dir, settings.index_dir)
    if plan.already_active:
        print(f"{args.candidate}: model {plan.candidate_version} is already the active model")
        return 0
    name = data_name(args)
    check = check_candidate(plan, load_utterances(args.data, args.split), name, args.tolerance)
    print(name)
    print(format_comparison(check.comparison, examples=args.examples))
    if not check.gate.passed:
        worse = ", ".join(failure.label for failure in check.gate.failures)
        print(
            f"deflect models promote: refused: {args.candidate} (model {check.candidate_model_version}) is worse than "
            f"the active model {check.active_model_version} on {worse} by more than {args.tolerance:g} points on "
            f"{name}: {format_gate(check.gate)}",
            file=sys.stderr,
        )
        return 1
    candidate_dir, index_dir = str(Path(args.candidate).resolve()), str(Path(args.index).resolve())
    if args.server and key and not _activate_remotely(args, key, candidate_dir, index_dir):
        return 2
    entry = promote(check)
    details = {
        "before": {"model_version": check.active_model_version},
        "after": {"model_version": entry.model_version, "model": entry.model_dir, "index": entry.index_dir},
        "gate": format_gate(check.gate),
        "data": name,
    }
    record_change("model.promote", f"model:{entry.model_version}", details)
    print(f"promoted model {entry.model_version} ({format_gate(check.gate)}); active in {registry.path}")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from deflect.core.settings import Settings
    from deflect.lifecycle.promotion import rollback_target
    from deflect.lifecycle.registry import ModelRegistry, RegistryError

    key = _admin_key(args)
    if args.server and not key:
        return 2
    registry = ModelRegistry(Settings().model_registry_file)
    try:
        target = rollback_target(registry)
        if args.server and key and not _activate_remotely(args, key, target.model_dir, target.index_dir):
            return 2
        left, restored = registry.rollback()
    except RegistryError as error:
        print(f"deflect models rollback: error: {error}", file=sys.stderr)
        return 2
    details = {
        "before": {"model_version": left.model_version, "model": left.model_dir},
        "after": {"model_version": restored.model_version, "model": restored.model_dir},
    }
    record_change("model.rollback", f"model:{restored.model_version}", details)
    print(
        f"rolled back from model {left.model_version} to {restored.model_version} ({restored.model_dir}); "
        f"active in {registry.path}"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    from deflect.core.settings import Settings
    from deflect.lifecycle.registry import ModelRegistry

    settings = Settings()
    document = ModelRegistry(settings.model_registry_file).read()
    if not document.entries:
        print(f"{settings.model_registry_file}: nothing promoted yet; the default is {settings.model_dir}")
        return 0
    for number, entry in enumerate(document.entries):
        marker = "*" if number == document.active else " "
        figures = ", ".join(
            f"{label} {entry.metrics[key]:.2%}"
            for key, label in (("accuracy_before_rejection", "accuracy"), ("macro_f1", "macro-F1"))
            if key in entry.metrics
        )
        print(
            f"{marker} {number}  {entry.model_version}  {entry.promoted_at:%Y-%m-%d %H:%M}  {entry.note:<9} "
            f"{entry.model_dir} + {entry.index_dir}  {figures}"
        )
    return 0


def _shadow_report(args: argparse.Namespace) -> int:
    from deflect.core.settings import Settings
    from deflect.evaluation.shadow import compare_shadow, format_shadow_report
    from deflect.store.events import EventStore

    url = args.database_url or Settings().database_url
    store = EventStore.open(url)
    try:
        comparisons = compare_shadow(store, args.model_version)
    finally:
        store.close()
    if not comparisons:
        which = f" of model {args.model_version}" if args.model_version else ""
        print(f"{safe_url(url)}: no shadow predictions{which} yet")
        return 0
    print("\n\n".join(format_shadow_report(c, examples=args.examples) for c in comparisons))
    return 0


def add_models(commands: Commands) -> None:
    models = commands.add_parser("models", help="compare, promote, roll back and list model versions; shadow report")
    model_commands = models.add_subparsers(dest="models_command", required=True)

    compare = model_commands.add_parser("compare", help="two models on the same labelled data, side by side")
    compare.add_argument("first", metavar="A", help="model artifact folder")
    compare.add_argument("second", metavar="B", help="model artifact folder")
    compare.add_argument("--data", required=True, help="labelled data (file or folder)")
    compare.add_argument("--split", default="test", help="split to read from a folder or benchmark (default test)")
    compare.add_argument("--index", help="article index: adds article Recall@k and search to the latency")
    compare.add_argument("--report", metavar="DIR", help="also write the HTML report with both models here")
    compare.add_argument("--examples", type=int, default=5, help="messages shown per kind of disagreement")
    compare.add_argument("--runtime", choices=["auto", "native", "onnx"], default="auto", help="encoder runtime")
    compare.set_defaults(run=_compare)

    promote = model_commands.add_parser(
        "promote", help="make a model + index active if it is not worse than the active one on labelled data"
    )
    promote.add_argument("candidate", metavar="CANDIDATE_MODEL", help="model artifact folder")
    promote.add_argument("--index", required=True, help="index folder built with the candidate's encoder")
    promote.add_argument("--data", required=True, help="labelled data both models are evaluated on")
    promote.add_argument(
        "--split",
        default="validation",
        help="split to read from a folder or benchmark (default validation: the gate decides, so it must not see "
        "the test split)",
    )
    promote.add_argument(
        "--tolerance",
        type=float,
        default=0.0,
        help="points the candidate may lose on accuracy (before and after rejection), macro-F1 and out-of-scope "
        "recall (default 0)",
    )
    promote.add_argument("--examples", type=int, default=5, help="messages shown per kind of disagreement")

    rollback = model_commands.add_parser("rollback", help="make the previously active model + index active again")
    for command in (promote, rollback):
        command.add_argument("--server", metavar="URL", help="also activate it on this running server")
        command.add_argument("--admin-key", help="admin API key for --server (default: DEFLECT_ADMIN_KEY)")
        command.add_argument("--timeout", type=float, default=300, help="seconds to wait for the server (300)")
    promote.set_defaults(run=_promote)
    rollback.set_defaults(run=_rollback)

    listing = model_commands.add_parser("list", help="the promoted models; * marks the active one")
    listing.set_defaults(run=_list)

    shadow = model_commands.add_parser(
        "shadow-report", help="where a shadow model disagreed with the active one on live traffic"
    )
    shadow.add_argument("--database-url", help="event database (default: DATABASE_URL or the settings' SQLite file)")
    shadow.add_argument("--model-version", help="only this shadow model (default: each one found)")
    shadow.add_argument("--examples", type=int, default=5, help="disagreeing messages shown")
    shadow.set_defaults(run=_shadow_report)
