"""How dense and lexical evidence, and the predicted intent, combine into one article ranking."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

SearchMode = Literal["hybrid", "dense", "lexical"]
Fusion = Literal["weighted", "rrf"]


@dataclass(frozen=True)
class SearchOptions:
    mode: SearchMode = "hybrid"
    fusion: Fusion = "weighted"
    lexical_weight: float = 0.05  # weighted fusion: BM25 share, normalised to the best candidate's score
    intent_boost: float = 0.1  # added × the probability of an intent the article is linked to
    rrf_k: int = 60
    candidates: int = 100  # chunks taken from each retriever before folding into articles


@dataclass
class Candidate:
    """One article's evidence: best dense and lexical chunk scores, with the chunk rows they came from."""

    dense: float | None = None
    dense_row: int | None = None
    lexical: float | None = None
    lexical_row: int | None = None
    intent: float = 0.0
    fused: float = 0.0
    ranks: dict[str, int] = field(default_factory=dict)

    @property
    def best_row(self) -> int | None:
        return self.dense_row if self.dense_row is not None else self.lexical_row


def fuse(candidates: Mapping[str, Candidate], options: SearchOptions) -> None:
    """Set `fused` on every candidate, in place."""
    if options.fusion == "rrf":
        _reciprocal_rank_fusion(candidates, options)
    else:
        _weighted_fusion(candidates, options)


def _weighted_fusion(candidates: Mapping[str, Candidate], options: SearchOptions) -> None:
    dense_scores = [c.dense for c in candidates.values() if c.dense is not None]
    dense_floor = min(dense_scores) if dense_scores else 0.0
    top_lexical = max((c.lexical or 0.0 for c in candidates.values()), default=0.0)
    for candidate in candidates.values():
        dense = 0.0 if options.mode == "lexical" else (candidate.dense if candidate.dense is not None else dense_floor)
        lexical = (candidate.lexical or 0.0) / top_lexical if top_lexical > 0 and options.mode != "dense" else 0.0
        weight = 1.0 if options.mode == "lexical" else options.lexical_weight
        candidate.fused = dense + weight * lexical + options.intent_boost * candidate.intent


def _reciprocal_rank_fusion(candidates: Mapping[str, Candidate], options: SearchOptions) -> None:
    lists = {
        "dense": {k: c.dense for k, c in candidates.items() if c.dense is not None and options.mode != "lexical"},
        "lexical": {k: c.lexical for k, c in candidates.items() if c.lexical and options.mode != "dense"},
        "intent": {k: c.intent for k, c in candidates.items() if c.intent > 0 and options.intent_boost > 0},
    }
    for candidate in candidates.values():
        candidate.fused = 0.0
    for name, scores in lists.items():
        for rank, key in enumerate(sorted(scores, key=lambda k: -(scores[k] or 0.0)), start=1):
            candidates[key].ranks[name] = rank
            candidates[key].fused += 1.0 / (options.rrf_k + rank)
