"""Shadow mode's report: a candidate model scored live traffic beside the active one without affecting answers.
Where did the two disagree (intent, decision, out of scope), and, on suggestions a reviewer labelled, which one
matched the reviewer?"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from deflect.core.records import OUT_OF_SCOPE
from deflect.store.events import EventStore
from deflect.store.tables import ReviewLabel, ShadowPrediction, StoredSuggestion, newest_labels

CONFUSIONS = 10


def _decided(intent: str, out_of_scope: bool) -> str:
    return OUT_OF_SCOPE if out_of_scope else intent


@dataclass(frozen=True)
class ShadowPair:
    """One live suggestion as the active model answered it and as the shadow model would have."""

    suggestion_id: str
    created_at: datetime
    text: str  # PII-redacted, as stored
    active_version: str
    shadow_version: str
    active_intent: str  # the decided label: the intent, or out_of_scope when rejected
    shadow_intent: str
    active_decision: str  # bot_answer / suggest_articles / handoff
    shadow_decision: str
    reviewed_intent: str | None  # the newest review label's intent, if a reviewer labelled the suggestion

    @property
    def same_intent(self) -> bool:
        return self.active_intent == self.shadow_intent

    @property
    def same_decision(self) -> bool:
        return self.active_decision == self.shadow_decision


@dataclass
class ShadowComparison:
    shadow_version: str
    pairs: list[ShadowPair]

    @property
    def active_versions(self) -> list[str]:
        return sorted({pair.active_version for pair in self.pairs})

    @property
    def disagreements(self) -> list[ShadowPair]:
        return [pair for pair in self.pairs if not pair.same_intent]

    @property
    def same_intent(self) -> int:
        return sum(pair.same_intent for pair in self.pairs)

    @property
    def same_decision(self) -> int:
        return sum(pair.same_decision for pair in self.pairs)

    @property
    def only_active_out_of_scope(self) -> int:
        return sum(p.active_intent == OUT_OF_SCOPE != p.shadow_intent for p in self.pairs)

    @property
    def only_shadow_out_of_scope(self) -> int:
        return sum(p.shadow_intent == OUT_OF_SCOPE != p.active_intent for p in self.pairs)

    def confusions(self, top: int = CONFUSIONS) -> list[tuple[str, str, int]]:
        """(active intent, shadow intent, suggestions) for the most frequent disagreements."""
        counts = Counter((p.active_intent, p.shadow_intent) for p in self.disagreements)
        return [(active, shadow, count) for (active, shadow), count in counts.most_common(top)]

    @property
    def reviewed(self) -> list[ShadowPair]:
        return [pair for pair in self.pairs if pair.reviewed_intent is not None]

    @property
    def active_matches_reviewer(self) -> int:
        return sum(pair.active_intent == pair.reviewed_intent for pair in self.reviewed)

    @property
    def shadow_matches_reviewer(self) -> int:
        return sum(pair.shadow_intent == pair.reviewed_intent for pair in self.reviewed)


def shadow_pairs(store: EventStore, shadow_version: str | None = None) -> list[ShadowPair]:
    """Every suggestion a shadow model scored, joined with what the active model answered and with the suggestion's
    newest review label; a shadow model's repeated rows for one suggestion count once (the newest)."""
    label = aliased(ReviewLabel, newest_labels().subquery())
    query = (
        select(ShadowPrediction, StoredSuggestion, label.intent, label.action)
        .join(StoredSuggestion, StoredSuggestion.id == ShadowPrediction.suggestion_id)
        .outerjoin(label, label.suggestion_id == ShadowPrediction.suggestion_id)
        .order_by(ShadowPrediction.id)
    )
    if shadow_version is not None:
        query = query.where(ShadowPrediction.model_version == shadow_version)
    pairs: dict[tuple[str, str], ShadowPair] = {}
    with store.session() as session:
        for shadow, suggestion, reviewed_intent, action in session.execute(query):
            pairs[(shadow.suggestion_id, shadow.model_version)] = ShadowPair(
                suggestion_id=suggestion.id,
                created_at=suggestion.created_at,
                text=suggestion.text,
                active_version=suggestion.model_version,
                shadow_version=shadow.model_version,
                active_intent=_decided(suggestion.intent, suggestion.out_of_scope),
                shadow_intent=_decided(shadow.intent, shadow.out_of_scope),
                active_decision=suggestion.decision,
                shadow_decision=shadow.decision,
                reviewed_intent=OUT_OF_SCOPE if action == OUT_OF_SCOPE else reviewed_intent,
            )
    return sorted(pairs.values(), key=lambda pair: pair.created_at)


def compare_shadow(store: EventStore, shadow_version: str | None = None) -> list[ShadowComparison]:
    """One comparison per shadow model version, the most recently active first."""
    by_version: dict[str, list[ShadowPair]] = {}
    for pair in shadow_pairs(store, shadow_version):
        by_version.setdefault(pair.shadow_version, []).append(pair)
    comparisons = [ShadowComparison(version, pairs) for version, pairs in by_version.items()]
    return sorted(comparisons, key=lambda c: c.pairs[-1].created_at, reverse=True)


def _share(count: int, total: int) -> str:
    return f"{count / total:.1%} ({count} of {total})" if total else "–"


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_shadow_report(comparison: ShadowComparison, examples: int = 5) -> str:
    pairs = comparison.pairs
    total = len(pairs)
    first, last = pairs[0].created_at, pairs[-1].created_at
    lines = [
        f"shadow model {comparison.shadow_version} beside active {', '.join(comparison.active_versions)}: "
        f"{total} live suggestions, {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M}",
        f"  same intent {_share(comparison.same_intent, total)}, "
        f"same decision {_share(comparison.same_decision, total)}",
        f"  out of scope for only the active model: {comparison.only_active_out_of_scope}, "
        f"for only the shadow model: {comparison.only_shadow_out_of_scope}",
    ]
    confusions = comparison.confusions()
    if confusions:
        lines.append("  active → shadow: " + "; ".join(f"{a} → {s} {n}" for a, s, n in confusions))
    reviewed = len(comparison.reviewed)
    if reviewed:
        lines.append(
            f"  reviewed {reviewed}: active matched the reviewer {_share(comparison.active_matches_reviewer, reviewed)}"
            f", shadow {_share(comparison.shadow_matches_reviewer, reviewed)}"
        )
    else:
        lines.append("  no reviewer labelled these suggestions yet")
    # reviewed disagreements first: they say which model was right
    shown = sorted(comparison.disagreements, key=lambda p: p.reviewed_intent is None)[:examples]
    if shown:
        lines.append("  where they disagree:")
    for pair in shown:
        reviewer = f" (reviewer: {pair.reviewed_intent})" if pair.reviewed_intent else ""
        lines.append(
            f"    {_short(pair.text)!r}: active {pair.active_intent}/{pair.active_decision} → "
            f"shadow {pair.shadow_intent}/{pair.shadow_decision}{reviewer}"
        )
    return "\n".join(lines)
