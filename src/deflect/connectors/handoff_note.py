"""The handoff package as a note for the agent who takes over (a Zendesk ticket's first comment, a Chatwoot private
note): what the bot understood, why it handed off, the details the customer gave, then the redacted conversation."""

from __future__ import annotations

from typing import Any


def handoff_note(package: dict[str, Any]) -> str:
    """The note an agent reads first: what the bot understood, the details given, then the redacted conversation."""
    route = package["route"]
    intents = package.get("intents") or []
    lines = [package.get("summary") or "", ""]
    if intents:
        best = intents[0]
        lines.append(f"Intent: {best['name']} ({best['intent']}, {best['confidence']:.0%})")
    lines.append(f"Reason: {package.get('reason') or package.get('reason_code') or '-'}")
    lines.append(f"Route: {route['queue']} · priority {route['priority']}")
    for reason in route.get("priority_reasons") or []:
        lines.append(f"  - {reason}")
    details = package.get("details") or []
    if details:
        lines += ["", *[f"{detail['label']}" for detail in details]]
    lines += ["", "Conversation (personal details redacted):"]
    for turn in package.get("transcript") or []:
        who = {"customer": "Customer", "bot": "Bot", "agent": "Agent"}.get(turn["role"], turn["role"])
        lines.append(f"{who}: {turn['text']}")
    lines += ["", f"Deflect conversation {package['conversation_id']}"]
    return "\n".join(lines).strip()
