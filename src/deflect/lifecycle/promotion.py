"""Promoting a model + index version: the check that a model and an index were built with the same encoder, and the
procedure behind `deflect models promote` (compare a candidate with the active pair on labelled data, gate it, record
it in the registry) and the check before `deflect models rollback`. Nothing here prints: callers report outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from deflect.core.artifacts import MODEL_FORMAT, MODEL_FORMAT_VERSION, ArtifactError, read_manifest
from deflect.core.records import Utterance
from deflect.evaluation.compare import GateResult, ModelComparison, compare_models, promotion_gate
from deflect.intent.model import IntentModel
from deflect.lifecycle.registry import ModelRegistry, RegistryEntry, new_entry
from deflect.retrieval.index import INDEX_FORMAT, INDEX_FORMAT_VERSION


class PromotionRefused(RuntimeError):
    """A candidate that did not pass the promotion gate was to be made active."""


def check_pair(model_dir: str | Path, index_dir: str | Path) -> str:
    """The model's version, once the model and the index are artifacts built with the same encoder."""
    model = read_manifest(model_dir, MODEL_FORMAT, MODEL_FORMAT_VERSION)
    index = read_manifest(index_dir, INDEX_FORMAT, INDEX_FORMAT_VERSION)
    if model["encoder"]["reference"] != index["encoder"]["reference"]:
        raise ArtifactError(
            f"{index_dir}: built with encoder '{index['encoder']['reference']}', but {model_dir} uses "
            f"'{model['encoder']['reference']}'; build the index with `deflect index --model {model_dir}`"
        )
    return str(model["version"])


@dataclass(frozen=True)
class PromotionPlan:
    """A candidate model + index and the pair active now, both checked to be matching pairs."""

    registry: ModelRegistry
    active_entry: RegistryEntry | None  # None: nothing promoted yet, the configured model + index serve
    active_model_dir: str
    active_index_dir: str
    active_version: str
    candidate_dir: str
    index_dir: str
    candidate_version: str

    @property
    def already_active(self) -> bool:
        return self.candidate_version == self.active_version


def plan_promotion(
    registry: ModelRegistry,
    candidate_dir: str | Path,
    index_dir: str | Path,
    default_model_dir: str | Path,
    default_index_dir: str | Path,
) -> PromotionPlan:
    """Check the candidate pair and the active one: the registry's active entry, else the defaults (what was served
    before the registry existed). Raises `ArtifactError` when either is not a matching pair."""
    active = registry.active()
    active_model_dir = active.model_dir if active else str(default_model_dir)
    active_index_dir = active.index_dir if active else str(default_index_dir)
    candidate_version = check_pair(candidate_dir, index_dir)
    return PromotionPlan(
        registry=registry,
        active_entry=active,
        active_model_dir=active_model_dir,
        active_index_dir=active_index_dir,
        active_version=check_pair(active_model_dir, active_index_dir),
        candidate_dir=str(candidate_dir),
        index_dir=str(index_dir),
        candidate_version=candidate_version,
    )


@dataclass(frozen=True)
class PromotionCheck:
    """The candidate compared with the active model on the same labelled data, and the gate's verdict."""

    plan: PromotionPlan
    data: str  # how the entries name the labelled data their metrics were measured on
    active_model_version: str
    candidate_model_version: str
    comparison: ModelComparison  # first: the active model, second: the candidate
    gate: GateResult


def check_candidate(
    plan: PromotionPlan, utterances: Sequence[Utterance], data: str, tolerance_points: float
) -> PromotionCheck:
    """Evaluate the active model and the candidate on `utterances` (named `data`) and apply the promotion gate: the
    candidate may lose at most `tolerance_points` percentage points on each gate metric."""
    active = IntentModel.from_pretrained(plan.active_model_dir)
    candidate = IntentModel.from_pretrained(plan.candidate_dir)
    comparison = compare_models(active, candidate, utterances, names=("active", "candidate"))
    gate = promotion_gate(comparison.first, comparison.second, tolerance_points)
    return PromotionCheck(plan, data, active.version, candidate.version, comparison, gate)


def promote(check: PromotionCheck) -> RegistryEntry:
    """Make a candidate that passed the gate the registry's active entry. The first promotion also records the pair
    served before it as the baseline, where the first rollback returns. Raises `PromotionRefused` otherwise."""
    if not check.gate.passed:
        raise PromotionRefused(f"{check.plan.candidate_dir}: model {check.candidate_model_version} failed the gate")
    plan = check.plan
    baseline = None
    if plan.active_entry is None:
        baseline = new_entry(
            plan.active_model_dir,
            plan.active_index_dir,
            check.active_model_version,
            check.comparison.first.metrics,
            check.data,
        )
    entry = new_entry(
        plan.candidate_dir, plan.index_dir, check.candidate_model_version, check.comparison.second.metrics, check.data
    )
    return plan.registry.promote(entry, baseline)


def rollback_target(registry: ModelRegistry) -> RegistryEntry:
    """The entry a rollback would make active, once its model and index are still a matching pair. Raises
    `RegistryError` when there is nothing to roll back to, `ArtifactError` when the pair no longer matches."""
    target = registry.previous()
    check_pair(target.model_dir, target.index_dir)
    return target
