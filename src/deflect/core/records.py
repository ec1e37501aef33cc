from __future__ import annotations

from dataclasses import dataclass, field

OUT_OF_SCOPE = "out_of_scope"
LOCALES = ("ko", "en")


@dataclass(frozen=True)
class Utterance:
    """One customer message; `label` is an intent id, `out_of_scope`, or None when unlabelled."""

    text: str
    label: str | None = None
    locale: str | None = None


@dataclass(frozen=True)
class Article:
    """A help-center article in one locale. Translations of the same article share `group_id`."""

    id: str
    title: str
    body: str
    locale: str
    url: str
    group_id: str
    intents: tuple[str, ...] = ()
    section: str | None = None
    updated_at: str | None = None

    @property
    def linked_intents(self) -> tuple[str, ...]:
        """The intents the article answers: those it names, and its own group (the intent a model bootstrapped
        from the help center predicts for it)."""
        return (*self.intents, self.group_id)


@dataclass(frozen=True)
class IntentLabel:
    id: str
    names: dict[str, str] = field(default_factory=dict)
    # how a clarifying question offers the intent to a customer ("이미 보낸 반품의 환불 진행 상황"), per locale
    options: dict[str, str] = field(default_factory=dict)

    def display_name(self, locale: str) -> str:
        return self.names.get(locale) or self.names.get("en") or self.id.replace("_", " ").capitalize()

    def option_label(self, locale: str) -> str:
        return self.options.get(locale) or self.display_name(locale)
