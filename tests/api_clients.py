"""The app on the real demo model and index with a TestClient per API key: what the API tests share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from fastapi.testclient import TestClient

from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex


@contextmanager
def api_clients(
    settings: Settings, model: IntentModel, index: ArticleIndex, **roles: Role
) -> Iterator[dict[str, TestClient]]:
    """One running app; for each `name=role`, a key of that role named `name` and a client sending it."""
    keys = KeyStore(settings.api_keys_file)
    app = create_app(settings, Suggester(model, index, settings))
    with ExitStack() as running:
        yield {
            name: running.enter_context(
                TestClient(app, headers={"Authorization": f"Bearer {keys.create(name, role)[0]}"})
            )
            for name, role in roles.items()
        }
