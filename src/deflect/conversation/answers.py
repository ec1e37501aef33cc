"""Per-intent bot answer templates in Korean and English, each pointing to the help-center article that answers it.

A template file maps intent → {"article_group": …, "ko": …, "en": …}; `{article_link}` marks where the article's
link goes. Admin routes can upsert and delete templates while the service runs."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from deflect.core.atomic import write_json_atomic

ARTICLE_LINK = "{article_link}"


class AnswerTemplateError(ValueError):
    pass


@dataclass(frozen=True)
class AnswerTemplate:
    intent: str
    article_group: str
    texts: dict[str, str]  # locale → text with one {article_link}

    def __post_init__(self) -> None:
        if not self.texts:
            raise AnswerTemplateError(f"answer template '{self.intent}' has no text")
        for locale, text in self.texts.items():
            if text.count(ARTICLE_LINK) != 1:
                raise AnswerTemplateError(
                    f"answer template '{self.intent}' ({locale}) must contain {ARTICLE_LINK} exactly once"
                )

    def text_for(self, locale: str, fallback_locale: str = "en") -> str | None:
        return self.texts.get(locale) or self.texts.get(fallback_locale)

    def render(self, locale: str, article_url: str, fallback_locale: str = "en") -> str | None:
        text = self.text_for(locale, fallback_locale)
        return None if text is None else text.replace(ARTICLE_LINK, article_url)


def _read_templates(path: Path) -> dict[str, AnswerTemplate | None]:
    """intent → template; null entries (in an overrides file) mark deleted templates."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise AnswerTemplateError(f"{path}: cannot read answer templates ({error})") from None
    if not isinstance(document, dict):
        raise AnswerTemplateError(f"{path}: expected an object of intent → template")
    templates: dict[str, AnswerTemplate | None] = {}
    for intent, entry in document.items():
        if entry is None:
            templates[intent] = None
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("article_group"), str):
            raise AnswerTemplateError(f"{path}: template '{intent}' needs an article_group and texts per locale")
        texts = {k: v for k, v in entry.items() if k != "article_group" and isinstance(v, str)}
        templates[intent] = AnswerTemplate(intent, entry["article_group"], texts)
    return templates


class AnswerTemplates:
    """The base template file, with the changes made through the admin API kept in a separate overrides file
    (so the shipped templates stay untouched and the changes survive a restart)."""

    def __init__(self, templates: list[AnswerTemplate], overrides_path: Path | None = None):
        self._templates = {template.intent: template for template in templates}
        self._overrides: dict[str, AnswerTemplate | None] = {}
        self.overrides_path = overrides_path
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path, overrides_path: Path | None = None) -> AnswerTemplates:
        base = [t for t in _read_templates(Path(path)).values() if t is not None]
        templates = cls(base, overrides_path)
        if overrides_path is not None and overrides_path.is_file():
            templates._overrides = _read_templates(overrides_path)
            for intent, template in templates._overrides.items():
                if template is None:
                    templates._templates.pop(intent, None)
                else:
                    templates._templates[intent] = template
        return templates

    def _record(self, intent: str, template: AnswerTemplate | None) -> None:
        self._overrides[intent] = template
        if self.overrides_path is None:
            return
        document = {
            k: None if t is None else {"article_group": t.article_group, **t.texts} for k, t in self._overrides.items()
        }
        write_json_atomic(self.overrides_path, document)

    def get(self, intent: str) -> AnswerTemplate | None:
        return self._templates.get(intent)

    def all(self) -> list[AnswerTemplate]:
        return sorted(self._templates.values(), key=lambda template: template.intent)

    def upsert(self, template: AnswerTemplate) -> None:
        with self._lock:
            self._templates = {**self._templates, template.intent: template}
            self._record(template.intent, template)

    def delete(self, intent: str) -> bool:
        with self._lock:
            if intent not in self._templates:
                return False
            self._templates = {k: v for k, v in self._templates.items() if k != intent}
            self._record(intent, None)
            return True
