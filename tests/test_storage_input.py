"""Input the database cannot store is refused with 422 naming the field, on SQLite and PostgreSQL alike, and a
storage failure never writes the customer's text or id into the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from api_clients import api_clients
from fastapi.testclient import TestClient

from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex
from deflect.store.events import EventStore


@pytest.fixture()
def clients(
    app_settings: Settings, demo_model: IntentModel, demo_index: ArticleIndex
) -> Iterator[tuple[TestClient, TestClient]]:
    with api_clients(app_settings, demo_model, demo_index, widget=Role.WIDGET, reviewer=Role.REVIEWER) as clients:
        yield clients["widget"], clients["reviewer"]


def _refused(response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert any(detail["field"].endswith(field) for detail in response.json()["error"]["details"]), response.text


def test_a_nul_byte_in_a_suggest_field_is_a_422_not_a_storage_failure(clients: tuple[TestClient, TestClient]) -> None:
    widget, _ = clients
    _refused(widget.post("/v1/suggest", json={"text": "배송 언제 와요?", "channel": "web\u0000"}), "channel")
    _refused(
        widget.post("/v1/suggest", json={"text": "배송 언제 와요?", "page_url": "https://a.example/\u0000"}), "page_url"
    )


def test_feedback_article_ids_are_held_to_the_column_size(clients: tuple[TestClient, TestClient]) -> None:
    widget, _ = clients
    suggestion = widget.post("/v1/suggest", json={"text": "환불 언제 되나요?"}).json()
    response = widget.post(
        "/v1/feedback",
        json={"suggestion_id": suggestion["suggestion_id"], "feedback": "helpful", "article_id": "a" * 129},
    )
    _refused(response, "article_id")


def test_a_nul_byte_in_a_review_filter_is_a_422(clients: tuple[TestClient, TestClient]) -> None:
    _, reviewer = clients
    _refused(reviewer.get("/review/api/items", params={"q": "환불\u0000"}), "q")
    _refused(reviewer.get("/review/api/items", params={"intent": "refund\u0000"}), "intent")


def test_a_storage_failure_logs_no_customer_text_or_id(
    app_settings: Settings, demo_model: IntentModel, demo_index: ArticleIndex, caplog: pytest.LogCaptureFixture
) -> None:
    keys = KeyStore(app_settings.api_keys_file)
    widget_key, _ = keys.create("widget", Role.WIDGET)
    app = create_app(app_settings, Suggester(demo_model, demo_index, app_settings))
    with TestClient(app, headers={"Authorization": f"Bearer {widget_key}"}) as widget:
        store: EventStore = app.state.service.events
        with store.engine.begin() as connection:  # the table is gone: every write fails
            connection.exec_driver_sql("DROP TABLE review_items")
            connection.exec_driver_sql("DROP TABLE shadow_predictions")
            connection.exec_driver_sql("DROP TABLE feedback")
            connection.exec_driver_sql("DROP TABLE suggestions")
        with caplog.at_level(logging.ERROR):
            response = widget.post(
                "/v1/suggest", json={"text": "환불해 주세요 secret-text-7731", "customer_id": "customer-secret-99"}
            )
    assert response.status_code == 503 and response.json()["error"]["code"] == "storage_unavailable"
    assert "secret-text-7731" not in caplog.text and "customer-secret-99" not in caplog.text
