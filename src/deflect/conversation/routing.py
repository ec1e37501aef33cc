"""Where a handoff goes: a team from the intent → team map, a queue per team and language, and a priority raised
by frustration, repeated failure or a sensitive intent, so the conversation reaches the right agent first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from deflect.core.vocabulary import Priority


class RoutingConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Route:
    team: str
    queue: str
    language: str
    priority: Priority
    priority_reasons: tuple[str, ...]


@dataclass(frozen=True)
class HandoffRouter:
    team_of_intent: dict[str, str]
    default_team: str
    high_priority_intents: frozenset[str]

    @classmethod
    def load(cls, path: str | Path) -> HandoffRouter:
        path = Path(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            teams: dict[str, list[str]] = document["teams"]
            team_of_intent = {intent: team for team, intents in teams.items() for intent in intents}
            return cls(
                team_of_intent, str(document["default_team"]), frozenset(document.get("high_priority_intents", []))
            )
        except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
            raise RoutingConfigError(
                f"{path}: expected {{'default_team': str, 'teams': {{team: [intent, …]}}, "
                f"'high_priority_intents': [intent, …]}} ({type(error).__name__}: {error})"
            ) from None

    def route(
        self, intent: str | None, language: str, *, frustrated: bool, failed_attempts: int, out_of_scope: bool
    ) -> Route:
        """`failed_attempts` counts unhelpful feedback in the conversation; two or more is repeated failure."""
        team = (
            self.default_team if out_of_scope or intent is None else self.team_of_intent.get(intent, self.default_team)
        )
        reasons = []
        if frustrated:
            reasons.append("customer is frustrated")
        if failed_attempts >= 2:
            reasons.append(f"{failed_attempts} suggestions were not helpful")
        if intent in self.high_priority_intents and not out_of_scope:
            reasons.append(f"'{intent}' is a high-priority topic")
        priority = Priority.URGENT if len(reasons) >= 2 else Priority.HIGH if reasons else Priority.NORMAL
        return Route(team, f"{team}-{language}", language, priority, tuple(reasons))
