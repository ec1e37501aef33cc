"""Stored events on SQLite and PostgreSQL: every suggestion and feedback, redacted, deletable, purged by age."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from api_clients import api_clients
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from deflect.api.auth import Role
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex
from deflect.store.events import EventStore, SuggestionRecord, migrate
from deflect.store.retention import purge_expired


def record(suggestion_id: str, conversation_id: str, customer_id: str | None = None, **changes) -> SuggestionRecord:
    fields = {
        "id": suggestion_id,
        "conversation_id": conversation_id,
        "customer_id": customer_id,
        "text": "refund to [EMAIL] please",
        "locale": "en",
        "intent": "refund_status",
        "confidence": 0.91,
        "out_of_scope": False,
        "alternatives": [("refund_status", 0.91), ("order_cancel", 0.05)],
        "articles": ["refund-status-en"],
        "decision": "bot_answer",
        "reason_code": "confident",
        "reason": "Confident",
        "frustration_score": 0.0,
        "model_version": "m-1",
        "index_version": "i-1",
        **changes,
    }
    return SuggestionRecord(**fields)


def test_migrations_build_the_schema_and_are_idempotent(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)

    store = EventStore(database_url)
    tables = set(inspect(store.engine).get_table_names())
    assert {"suggestions", "feedback", "review_items", "review_labels", "audit_log", "shadow_predictions"} <= tables
    store.close()


def test_workers_starting_together_on_a_fresh_database_migrate_it_once_without_failing(database_url: str) -> None:
    """`deflect serve --workers N` on a new database: every worker migrates it at start-up, at the same moment."""
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=migrate, args=(database_url,)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    store = EventStore.open(database_url)
    with store.session() as session:
        versions = session.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    store.close()
    assert len(versions) == 1


def test_deleting_a_customer_removes_every_conversation_of_theirs_and_nothing_else(database_url: str) -> None:
    store = EventStore.open(database_url)
    store.record_suggestion(record("s-1", "c-1", "customer-7"))
    store.record_suggestion(record("s-2", "c-2", "customer-7"))
    store.record_suggestion(record("s-3", "c-3", "customer-8"))
    store.record_feedback("s-1", "helpful")
    store.record_feedback("s-3", "not_helpful")

    deleted = store.delete_customer("customer-7")

    assert (deleted.suggestions, deleted.feedback, deleted.conversation_ids) == (2, 1, ["c-1", "c-2"])
    assert [s.id for s in store.suggestions()] == ["s-3"]
    assert [f.suggestion_id for f in store.feedback()] == ["s-3"]
    store.close()


def test_purge_drops_events_past_retention_with_their_feedback(database_url: str) -> None:
    store = EventStore.open(database_url)
    long_ago = datetime.now(UTC) - timedelta(days=120)
    store.record_suggestion(record("s-old", "c-1", created_at=long_ago))
    store.record_suggestion(record("s-new", "c-2"))
    store.record_feedback("s-old", "helpful")

    deleted = purge_expired(store, retention_days=90)

    assert (deleted.suggestions, deleted.feedback) == (1, 1)
    assert [s.id for s in store.suggestions()] == ["s-new"] and store.feedback() == []
    store.close()


@pytest.fixture()
def clients(
    app_settings: Settings, demo_model: IntentModel, demo_index: ArticleIndex
) -> Iterator[tuple[TestClient, TestClient]]:
    with api_clients(app_settings, demo_model, demo_index, widget=Role.WIDGET, admin=Role.ADMIN) as clients:
        yield clients["widget"], clients["admin"]


def test_the_api_stores_each_suggestion_and_feedback_redacted_with_model_version_and_reason(
    clients: tuple[TestClient, TestClient], app_settings: Settings
) -> None:
    widget, _ = clients
    text = "환불 언제 되나요? 연락처는 010-1234-5678 입니다"
    first = widget.post("/v1/suggest", json={"text": text, "customer_id": "customer-42"}).json()
    widget.post(
        "/v1/feedback",
        json={
            "suggestion_id": first["suggestion_id"],
            "feedback": "not_helpful",
            "conversation_token": first["conversation_token"],
        },
    )

    store = EventStore(app_settings.database_url)
    [stored] = store.suggestions(first["conversation_id"])
    assert "010-1234-5678" not in stored.text and "환불" in stored.text
    assert stored.customer_id == "customer-42" and stored.model_version == first["model_version"]
    assert (stored.decision, stored.reason_code) == (first["decision"], first["reason_code"])
    assert stored.intent == first["intent"]["intent"]
    assert [f.feedback for f in store.feedback(first["conversation_id"])] == ["not_helpful"]
    store.close()


def test_an_admin_deletes_a_customer_and_their_live_conversation_goes_too(
    clients: tuple[TestClient, TestClient], app_settings: Settings
) -> None:
    widget, admin = clients
    first = widget.post("/v1/suggest", json={"text": "where is my parcel", "customer_id": "customer-9"}).json()
    conversation = first["conversation_id"]
    token = {"X-Conversation-Token": first["conversation_token"]}
    assert widget.get(f"/v1/conversations/{conversation}/handoff", headers=token).status_code == 200

    assert widget.delete("/admin/customers/customer-9").status_code == 403
    response = admin.delete("/admin/customers/customer-9")

    assert response.status_code == 200
    assert response.json() == {
        "conversations": [conversation],
        "suggestions": 1,
        "feedback": 0,
        "review_labels": 0,
        "live_conversations": 1,
    }
    assert widget.get(f"/v1/conversations/{conversation}/handoff", headers=token).status_code == 404
    store = EventStore(app_settings.database_url)
    assert store.suggestions(conversation) == []
    store.close()


def test_a_suggestion_that_cannot_be_stored_is_refused_not_lost(
    clients: tuple[TestClient, TestClient], app_settings: Settings
) -> None:
    _, admin = clients
    store = EventStore(app_settings.database_url)
    with store.engine.begin() as connection:
        for table in ("feedback", "review_items", "shadow_predictions", "suggestions"):
            connection.execute(text(f"DROP TABLE {table}"))
    store.close()

    response = admin.post("/v1/suggest", json={"text": "where is my parcel", "conversation_id": "c-lost-1"})

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert admin.get("/v1/conversations/c-lost-1/handoff").status_code == 404
