"""Reviewed labels as training data: read a `deflect export-reviewed` folder and merge it into a training split."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deflect.core.records import Utterance
from deflect.core.reviewed_format import REVIEWED_CSV
from deflect.ingest.utterances import read_utterance_file


def read_reviewed(path: str | Path) -> list[Utterance]:
    """Reviewed utterances from an export folder or its CSV (any CSV or JSONL with text and label works too)."""
    path = Path(path)
    if path.is_dir():
        path = path / REVIEWED_CSV
    return read_utterance_file(path)


@dataclass
class ReviewedMerge:
    """A training split with reviewed utterances merged in, and what the merge did."""

    utterances: list[Utterance]
    added: int  # reviewed utterances in the training split
    replaced: int  # training utterances with the same text and another label, dropped for the reviewed one
    held_out: int  # reviewed utterances left out because their text is in the validation or test data
    new_intents: list[str]  # labels the training data did not have
    too_few: dict[str, int] = field(default_factory=dict)  # new intents left out: fewer than `minimum` examples

    def manifest(self, source: str | Path) -> dict[str, Any]:
        return {
            "source": str(source),
            "rows": self.added,
            "replaced_training_rows": self.replaced,
            "left_out_in_held_out_data": self.held_out,
            "new_intents": self.new_intents,
            "new_intents_with_too_few_examples": self.too_few,
        }


def merge_reviewed(
    training: Sequence[Utterance],
    reviewed: Sequence[Utterance],
    held_out_texts: AbstractSet[str] = frozenset(),
    minimum: int = 2,
) -> ReviewedMerge:
    """Reviewed labels win: a training utterance with the text of a reviewed one is dropped for it, and among
    reviewed utterances with the same text the later one (an export is in labelling order) wins. Texts of the
    validation or test data never enter training, so the figures measured on them stay honest. A new intent needs
    `minimum` examples (the trainer's own minimum), or it waits for more reviews."""
    latest: dict[str, Utterance] = {}
    for utterance in reviewed:
        latest.pop(utterance.text, None)  # re-insert, so the order stays the labelling order
        latest[utterance.text] = utterance
    unseen = [u for text, u in latest.items() if text not in held_out_texts]
    known = {u.label for u in training}
    new_counts = Counter(str(u.label) for u in unseen if u.label not in known)
    too_few = {label: count for label, count in sorted(new_counts.items()) if count < minimum}
    kept = {u.text: u for u in unseen if u.label not in too_few}
    remaining = [u for u in training if u.text not in kept]
    return ReviewedMerge(
        utterances=remaining + list(kept.values()),
        added=len(kept),
        replaced=sum(1 for u in training if u.text in kept and kept[u.text].label != u.label),
        held_out=len(latest) - len(unseen),
        new_intents=sorted(label for label in new_counts if label not in too_few),
        too_few=too_few,
    )
