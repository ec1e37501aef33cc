"""The review queue on SQLite and PostgreSQL: what enters it and in which order, claims, labels and bulk labels, the
audit trail, privacy deletion, analytics; and the review API as reviewers, admins and widget keys see it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from test_events import record

from deflect.api import review_session
from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.core.vocabulary import LabelAction
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex
from deflect.store.analytics import analytics
from deflect.store.audit import AuditLog, AuditQuery
from deflect.store.events import EventStore
from deflect.store.queue_items import LabelRequest, QueueFilter, Reviewer, new_queue_item
from deflect.store.review import ClaimConflict, ReviewError, ReviewStore
from deflect.store.tables import ReviewItem

REDIS_URL = "redis://127.0.0.1:6379/15"

RITA = Reviewer("rita", "key-rita")
MINHO = Reviewer("minho", "key-minho")
INTENTS = frozenset({"refund_status", "delivery_status", "order_cancel"})


def store_with(store: EventStore, *records) -> ReviewStore:
    for suggestion in records:
        item = new_queue_item(suggestion)
        store.record_suggestion(suggestion, [item] if item else [])
    return ReviewStore(store)


def confident(suggestion_id: str, conversation_id: str, **changes):
    return record(suggestion_id, conversation_id, **changes)


def unsure(suggestion_id: str, conversation_id: str, confidence: float = 0.4, **changes):
    return record(
        suggestion_id,
        conversation_id,
        decision="suggest_articles",
        reason_code="low_confidence",
        confidence=confidence,
        **changes,
    )


def handed_off(suggestion_id: str, conversation_id: str, reason_code: str = "person_requested", **changes):
    return record(suggestion_id, conversation_id, decision="handoff", reason_code=reason_code, **changes)


def out_of_scope(suggestion_id: str, conversation_id: str, text: str = "do you sell pianos", **changes):
    return record(
        suggestion_id,
        conversation_id,
        decision="handoff",
        reason_code="out_of_scope",
        out_of_scope=True,
        confidence=0.05,
        text=text,
        **changes,
    )


def test_the_queue_holds_what_needs_a_person_in_priority_order(database_url: str) -> None:
    store = EventStore.open(database_url)
    review = store_with(
        store,
        confident("s-answered", "c-1"),
        unsure("s-unsure", "c-2", confidence=0.5),
        unsure("s-very-unsure", "c-3", confidence=0.2),
        handed_off("s-person", "c-4"),
        handed_off("s-frustrated", "c-5", reason_code="frustrated", frustration_score=0.8),
        out_of_scope("s-piano", "c-6"),
    )

    order = [entry.suggestion_id for entry in review.queue(QueueFilter()).entries]

    assert order == ["s-frustrated", "s-piano", "s-person", "s-very-unsure", "s-unsure"]
    assert "s-answered" not in order

    store.record_feedback("s-answered", "not_helpful")
    review.note_feedback("s-answered", "not_helpful")
    entries = review.queue(QueueFilter()).entries
    answered = next(entry for entry in entries if entry.suggestion_id == "s-answered")
    assert answered.reasons == ["negative_feedback"] and answered.priority == 3.0

    assert [e.suggestion_id for e in review.queue(QueueFilter(reason="out_of_scope")).entries] == ["s-piano"]
    assert review.queue(QueueFilter(search="PIANO")).total == 1
    store.close()


def test_a_claimed_item_belongs_to_its_reviewer_until_the_claim_goes_stale(database_url: str) -> None:
    store = EventStore.open(database_url)
    review = store_with(store, handed_off("s-1", "c-1"))
    item_id = review.queue(QueueFilter()).entries[0].id

    review.claim([item_id], RITA)
    with pytest.raises(ClaimConflict, match="rita"):
        review.claim([item_id], MINHO)
    with pytest.raises(ClaimConflict):
        review.label([item_id], LabelRequest(LabelAction.CONFIRM), MINHO)
    assert review.queue(QueueFilter(claimed_by="rita")).total == 1

    with store.session() as session:
        session.execute(update(ReviewItem).values(claimed_at=datetime.now(UTC) - timedelta(hours=1)))
    review.claim([item_id], MINHO)
    assert review.item(item_id).entry.claimed_by == "minho"
    store.close()


def test_labels_record_who_set_them_and_a_bulk_label_labels_each_item(database_url: str) -> None:
    store = EventStore.open(database_url)
    review = store_with(
        store,
        unsure("s-1", "c-1"),
        out_of_scope("s-2", "c-2"),
        out_of_scope("s-3", "c-3", text="piano lessons?"),
    )
    ids = {entry.suggestion_id: entry.id for entry in review.queue(QueueFilter()).entries}
    unsure_id, pianos = ids["s-1"], [ids["s-2"], ids["s-3"]]

    with pytest.raises(ReviewError, match="not one of the model's intents"):
        review.label([unsure_id], LabelRequest(LabelAction.CORRECT, "refund_statuz"), RITA, INTENTS)
    with pytest.raises(ReviewError, match="already exists"):
        review.label([unsure_id], LabelRequest(LabelAction.NEW_INTENT, "refund_status"), RITA, INTENTS)
    with pytest.raises(ReviewError, match="article_id"):
        review.label([unsure_id], LabelRequest(LabelAction.ATTACH_ARTICLE), RITA, INTENTS)

    review.label([unsure_id], LabelRequest(LabelAction.CONFIRM), RITA, INTENTS)
    review.label([unsure_id], LabelRequest(LabelAction.CORRECT, "order_cancel"), MINHO, INTENTS)
    review.label(pianos, LabelRequest(LabelAction.NEW_INTENT, "musical_instruments", note="we sell none"), RITA)

    detail = review.item(unsure_id)
    assert [(label.action, label.intent, label.reviewer) for label in detail.labels] == [
        ("correct", "order_cancel", "minho"),
        ("confirm", "refund_status", "rita"),
    ]
    assert detail.entry.status == "done" and detail.entry.label and detail.entry.label.intent == "order_cancel"
    assert review.queue(QueueFilter()).total == 0 and review.queue(QueueFilter(status="done")).total == 3
    assert review.proposed_intents() == ["musical_instruments"]

    trail = AuditLog(store).entries()
    assert [(entry.actor, entry.action, entry.details.get("intent")) for entry in trail] == [
        ("rita", "bulk_label", "musical_instruments"),
        ("minho", "label", "order_cancel"),
        ("rita", "label", "refund_status"),
    ]
    assert AuditLog(store).entries(AuditQuery(actor="minho"))[0].target == f"items {unsure_id}"
    store.close()


def test_deleting_a_customer_deletes_their_labels_and_the_purge_keeps_labels(database_url: str) -> None:
    store = EventStore.open(database_url)
    review = store_with(
        store,
        out_of_scope("s-1", "c-1", customer_id="customer-7"),
        out_of_scope("s-2", "c-2", customer_id="customer-8"),
        out_of_scope("s-3", "c-3", customer_id="customer-9"),
    )
    ids = {entry.suggestion_id: entry.id for entry in review.queue(QueueFilter()).entries}
    review.label(list(ids.values()), LabelRequest(LabelAction.OUT_OF_SCOPE), RITA)

    deleted = store.delete_customer("customer-7")
    assert (deleted.suggestions, deleted.labels) == (1, 1)
    assert store.delete_conversation("c-2").labels == 1

    store.purge(datetime.now(UTC) + timedelta(days=1))
    assert store.suggestions() == []
    assert review.queue(QueueFilter(status=None)).total == 0  # queue items went with their suggestions
    with store.session() as session:
        from deflect.store.tables import ReviewLabel

        assert [label.suggestion_id for label in session.query(ReviewLabel)] == ["s-3"]
    store.close()


def test_analytics_count_deflection_handoffs_feedback_and_days(tmp_path: Path) -> None:
    store = EventStore.open(f"sqlite:///{tmp_path / 'events.db'}")
    now = datetime.now(UTC)
    yesterday = now - timedelta(days=1)
    review = store_with(
        store,
        confident("s-1", "c-1", created_at=yesterday),
        confident("s-2", "c-2", created_at=now, intent="delivery_status"),
        handed_off("s-3", "c-2", created_at=now),
        out_of_scope("s-4", "c-3", created_at=now),
        confident("s-5", "c-4", created_at=now - timedelta(days=40)),
    )
    store.record_feedback("s-1", "helpful")
    store.record_feedback("s-2", "not_helpful")

    figures = analytics(review.events, days=7, now=now)

    assert figures.suggestions == 4 and figures.conversations == 3
    assert figures.deflection_rate == round(1 / 3, 4)  # only c-1 ended without a handoff
    assert figures.handoff_rate == 0.5 and figures.bot_answer_rate == 0.5
    assert figures.handoffs_by_reason == {"person_requested": 1, "out_of_scope": 1}
    assert dict(figures.top_intents) == {"refund_status": 2, "delivery_status": 1, "out_of_scope": 1}
    assert figures.feedback == {"helpful": 1, "not_helpful": 1}
    assert [day.day for day in figures.per_day][-2:] == [yesterday.date().isoformat(), now.date().isoformat()]
    assert (figures.per_day[-1].suggestions, figures.per_day[-1].handoffs, figures.per_day[-1].conversations) == (
        3,
        2,
        2,
    )
    store.close()


# --- through the API -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_and_keys(
    demo_model: IntentModel, demo_index: ArticleIndex, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("review-api")
    settings = Settings(
        api_keys_file=folder / "keys.json",
        database_url=f"sqlite:///{folder / 'events.db'}",
        answers_overrides_file=folder / "answers.json",
    )
    store = KeyStore(settings.api_keys_file)
    keys = {role.value: store.create(f"{role.value}-1", role)[0] for role in Role}
    with TestClient(create_app(settings, Suggester(demo_model, demo_index, settings))) as client:
        for text in ("do you sell pianos", "피아노 파나요?", "can I buy a grand piano", "상담원 연결해 주세요"):
            assert client.post("/v1/suggest", json={"text": text}, headers=bearer(keys["widget"])).status_code == 200
        yield client, keys


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_widget_key_cannot_open_the_review_queue_or_its_page(app_and_keys) -> None:
    client, keys = app_and_keys
    widget = bearer(keys["widget"])

    assert client.get("/review/api/items", headers=widget).status_code == 403
    page = client.get("/review", headers=widget, follow_redirects=False)
    assert page.status_code == 403 and "reviewer or admin" in page.json()["error"]["message"]
    assert client.post("/review/api/session", json={"key": keys["widget"]}).status_code == 403
    assert client.get("/review", follow_redirects=False).headers["location"] == "/review/login"
    assert client.get("/review/api/items").status_code == 401


def test_unmet_needs_group_the_same_request_across_languages(app_and_keys) -> None:
    client, keys = app_and_keys
    needs = client.get("/review/api/unmet-needs", headers=bearer(keys["reviewer"])).json()

    assert needs["considered"] == 3  # the person request is a handoff, not an unmet need
    [pianos] = needs["clusters"]
    assert pianos["size"] == 3 and pianos["locales"] == {"en": 2, "ko": 1}
    assert set(pianos["examples"]) == {"do you sell pianos", "피아노 파나요?", "can I buy a grand piano"}


def test_reviewers_work_the_queue_and_admins_read_the_audit_trail(app_and_keys) -> None:
    client, keys = app_and_keys
    reviewer = bearer(keys["reviewer"])

    queue = client.get("/review/api/items", headers=reviewer).json()
    assert queue["total"] >= 4
    top = queue["items"][0]
    assert {"handoff"} <= set(top["reasons"]) and top["intent_name"]
    detail = client.get(f"/review/api/items/{top['id']}", headers=reviewer).json()
    assert detail["conversation"][0]["text"] == top["text"]

    pianos = [item["id"] for item in queue["items"] if "piano" in item["text"].lower() or "피아노" in item["text"]]
    made = client.post(
        "/review/api/bulk",
        headers=reviewer,
        json={"action": "new_intent", "intent": "musical_instruments", "item_ids": pianos},
    )
    assert made.status_code == 200 and len(made.json()["labels"]) == len(pianos) == 3
    assert client.get("/review/api/catalog", headers=reviewer).json()["proposed_intents"] == ["musical_instruments"]
    bad = client.post(
        f"/review/api/items/{top['id']}/label", headers=reviewer, json={"action": "correct", "intent": "no_such_intent"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
    assert client.post("/review/api/items/999999/claim", headers=reviewer).status_code == 404

    assert client.get("/admin/audit", headers=reviewer).status_code == 403
    trail = client.get("/admin/audit", headers=bearer(keys["admin"])).json()
    assert trail[0]["actor"] == "reviewer-1" and trail[0]["action"] == "bulk_label"


def test_signing_out_ends_the_session_on_the_server_not_only_in_the_browser(app_and_keys) -> None:
    client, keys = app_and_keys
    assert client.post("/review/api/session", json={"key": keys["reviewer"]}).status_code == 200
    copied = client.cookies[review_session.COOKIE]
    assert client.get("/review/api/me").status_code == 200

    assert client.delete("/review/api/session", headers={"x-deflect-review": "1"}).status_code == 204
    client.cookies.clear()
    client.cookies.set(review_session.COOKIE, copied, path="/review")
    try:
        assert client.get("/review/api/me").status_code == 401
        assert client.get("/review", follow_redirects=False).headers["location"] == "/review/login"
    finally:
        client.cookies.clear()
    # Another session of the same key is untouched.
    assert client.post("/review/api/session", json={"key": keys["reviewer"]}).status_code == 200
    try:
        assert client.get("/review/api/me").status_code == 200
    finally:
        client.cookies.clear()


def test_a_sign_out_in_one_worker_holds_in_every_worker_through_redis() -> None:
    prefix = f"test-{uuid.uuid4().hex}:"
    one, other = (review_session.RedisSignedOutSessions(REDIS_URL, prefix=prefix) for _ in range(2))
    secret = b"s" * 32
    cookie, token = review_session.issue(secret, "key-1", lifetime_seconds=600)
    kept = review_session.issue(secret, "key-1", lifetime_seconds=600)[1]
    assert review_session.verify(secret, cookie) == token and not other.is_signed_out(token)

    one.sign_out(token)
    assert other.is_signed_out(token) and not other.is_signed_out(kept)
    assert 0 < other.client.ttl(f"{prefix}review-session-signed-out:{token.session_id}") <= 600
    assert review_session.verify(secret, cookie[:-2] + "xx") is None


def test_the_review_page_session_needs_the_csrf_header_for_changes(app_and_keys) -> None:
    client, keys = app_and_keys
    signed_in = client.post("/review/api/session", json={"key": keys["reviewer"]})
    assert signed_in.status_code == 200 and signed_in.json()["reviewer"] == "reviewer-1"
    try:
        assert client.get("/review").status_code == 200
        item_id = client.get("/review/api/items").json()["items"][0]["id"]
        assert client.post(f"/review/api/items/{item_id}/claim").status_code == 403
        claimed = client.post(f"/review/api/items/{item_id}/claim", headers={"x-deflect-review": "1"})
        assert claimed.status_code == 200
    finally:
        client.delete("/review/api/session", headers={"x-deflect-review": "1"})
        client.cookies.clear()
    assert client.get("/review/api/items").status_code == 401
