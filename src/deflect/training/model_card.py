"""The README.md of a model artifact: what it is, what it was trained on, how, and how well it did."""

from __future__ import annotations

from typing import Any


def _percent(value: Any) -> str:
    return f"{100 * value:.1f}%" if isinstance(value, int | float) else "–"


def _reviewed_lines(reviewed: dict[str, Any] | None) -> list[str]:
    if not reviewed:
        return []
    new_intents = ", ".join(f"`{intent}`" for intent in reviewed["new_intents"]) or "none"
    lines = [
        f"- Reviewed labels from `{reviewed['source']}`: {reviewed['rows']} in the training data "
        f"({reviewed['replaced_training_rows']} replaced a training example's label; "
        f"{reviewed['left_out_in_held_out_data']} left out because their text is in the validation or test data); "
        f"new intents: {new_intents}"
    ]
    if reviewed["new_intents_with_too_few_examples"]:
        waiting = ", ".join(f"`{k}` ({v})" for k, v in reviewed["new_intents_with_too_few_examples"].items())
        lines.append(f"- New intents left out until they have 2 reviewed examples: {waiting}")
    return lines


def _bootstrap_lines(bootstrap: dict[str, Any] | None) -> list[str]:
    if not bootstrap:
        return []
    if graduated := bootstrap.get("graduated"):
        return [
            f"- **Graduated from a bootstrapped model** (`deflect train --articles … --include-reviewed …`): "
            f"{graduated['reviewed_messages']} reviewed messages and {graduated['article_texts']} texts of the "
            f"{bootstrap['articles_count']} articles in `{bootstrap['articles']}` (digest "
            f"`{bootstrap['articles_digest']}`); intents: {bootstrap['intents_from']}; calibrated on "
            f"{graduated['calibrated_on']}",
        ]
    kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(bootstrap["seed_kinds"].items()))
    return [
        f"- **Bootstrapped from a help center alone** (`deflect bootstrap`): {bootstrap['articles_count']} articles "
        f"in `{bootstrap['articles']}` (digest `{bootstrap['articles_digest']}`), no labelled messages; intents: "
        f"{bootstrap['intents_from']}",
        f"- Texts taken from the articles: {kinds}; {bootstrap['training_texts']} training texts (with each section "
        f"whole), {bootstrap['pseudo_queries']} held out as pseudo-queries",
    ]


def render_model_card(manifest: dict[str, Any], metrics: dict[str, Any]) -> str:
    validation = metrics.get("validation", {})
    recipe = manifest["recipe"]
    data = manifest["data"]
    lines = [
        f"# Deflect intent model `{manifest['version']}`",
        "",
        f"Encoder: `{manifest['encoder']['reference']}` ({manifest['encoder']['dim']}-dim, frozen). "
        f"Recipe: {recipe['name']} — {recipe['head']}, C={recipe['C']}.",
        "",
        "## Data",
        f"- Source: `{data['source']}` (fingerprint `{data['fingerprint'][:12]}`)",
        f"- {data['examples']} examples, {data['intents']} intents, {data['out_of_scope_examples']} out-of-scope",
        f"- Locales: {', '.join(f'{k}: {v}' for k, v in sorted(data['locales'].items()))}",
        *_reviewed_lines(data.get("reviewed")),
        *_bootstrap_lines(manifest.get("bootstrap")),
        "",
        "## Validation",
        f"{recipe['validation']}.",
        "",
        "| metric | value |",
        "|---|---|",
        f"| accuracy before rejection | {_percent(validation.get('accuracy_before_rejection'))} |",
        f"| in-scope accuracy (rejections count as wrong) | {_percent(validation.get('in_scope_accuracy'))} |",
        f"| out-of-scope recall | {_percent(validation.get('out_of_scope_recall'))} |",
        f"| ECE before / after calibration | {_percent(validation.get('ece_before_calibration'))} / "
        f"{_percent(validation.get('ece'))} |",
        f"| bot answers at the answer threshold: rate / precision | {_percent(validation.get('answer_rate'))} / "
        f"{_percent(validation.get('answer_precision'))} |",
        "",
        "## Operating points",
        f"- Temperature: {manifest['calibration']['temperature']:.3f} ({manifest['calibration']['method']})",
        f"- Out-of-scope threshold: {manifest['out_of_scope']['threshold']:.4f} on the "
        f"{manifest['out_of_scope'].get('score_description', manifest['out_of_scope']['score'])}; "
        f"objective: {manifest['out_of_scope']['objective']}",
        f"- Answer threshold: {manifest['answer']['threshold']:.4f}; objective: {manifest['answer']['objective']}",
        "",
        "## Use",
        "```python",
        "from deflect.intent.model import IntentModel",
        "model = IntentModel.from_pretrained('path/to/this/folder')",
        "model.predict(['택배가 어디에 있나요?'])",
        "```",
        "",
        f"Trained in {manifest['training_seconds']} s with Deflect {manifest['deflect_version']} "
        f"on {manifest['created_at']}.",
        "",
    ]
    return "\n".join(lines)
