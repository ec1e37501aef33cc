"""Every admin change is in the audit trail — who (the key), what, when, before and after — whether it was made
through the admin API or at the command line; admins read it with filters, and it outlives the event retention."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from api_clients import api_clients

from deflect.api.auth import Role
from deflect.cli.main import main
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex
from deflect.store.audit import AuditLog, AuditQuery, command_line_actor, hashed
from deflect.store.events import EventStore
from deflect.store.retention import purge_expired
from deflect.store.tables import AuditEntry

ARTICLE = {
    "title": "선물 포장이 되나요?",
    "body": "주문서에서 선물 포장을 고르면 2,000원에 포장해 드려요.",
    "locale": "ko",
    "url": "https://help.haneulmarket.example/ko/articles/gift-wrap",
    "intents": [],
}


def test_admin_changes_through_the_api_are_audited_with_the_key_and_before_and_after(
    tmp_path: Path, database_url: str, demo_model: IntentModel, demo_index_dir: Path, demo_model_dir: Path
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(demo_index_dir, index_dir)
    settings = Settings(
        index_dir=index_dir,
        api_keys_file=tmp_path / "keys.json",
        answers_overrides_file=tmp_path / "answers.json",
        database_url=database_url,
    )
    index = ArticleIndex.load(index_dir, encoder=demo_model.encoder)
    with api_clients(settings, demo_model, index, ops=Role.ADMIN, shop=Role.SERVER, qa=Role.REVIEWER) as clients:
        ops, shop = clients["ops"], clients["shop"]
        ops.put("/admin/articles/gift-wrap-ko", json=ARTICLE)
        ops.put("/admin/articles/gift-wrap-ko", json={**ARTICLE, "title": "선물 포장 안내"})
        ops.delete("/admin/articles/gift-wrap-ko")
        template = ops.get("/admin/answers").json()[0]
        intent, texts = template["intent"], template["texts"]
        changed = {**texts, "en": texts["en"].replace("{article_link}", "See {article_link} — thanks!")}
        ops.put(f"/admin/answers/{intent}", json={"article_group": template["article_group"], "texts": changed})
        ops.post("/admin/models/activate", json={"model": str(demo_model_dir), "index": str(index_dir)})
        while ops.get("/admin/models/activation").json()["status"] == "loading":
            time.sleep(0.1)
        shop.post("/v1/suggest", json={"text": "환불 언제 되나요?", "customer_id": "customer-9"})
        ops.delete("/admin/customers/customer-9")

        trail = ops.get("/admin/audit").json()
        article_changes = ops.get("/admin/audit", params={"action": "article."}).json()
        answer = ops.get("/admin/audit", params={"target": f"answer:{intent}"}).json()
        since_now = ops.get("/admin/audit", params={"since": datetime.now(UTC).isoformat()}).json()
        by_nobody = ops.get("/admin/audit", params={"actor": "nobody"}).json()
        reviewer = clients["qa"].get("/admin/audit")
        bad_time = ops.get("/admin/audit", params={"since": "yesterday"})

    actions = [entry["action"] for entry in reversed(trail)]
    assert actions == [
        "article.upsert",
        "article.upsert",
        "article.delete",
        "answer.upsert",
        "model.activate",
        "model.activated",
        "customer.delete",
    ]
    assert {entry["actor"] for entry in trail} == {"ops"} and len({entry["actor_key_id"] for entry in trail}) == 1
    added, retitled, deleted = reversed(article_changes)
    assert added["details"]["before"] is None and added["details"]["after"]["title"] == ARTICLE["title"]
    assert retitled["details"]["before"]["title"] == ARTICLE["title"]
    assert (
        retitled["details"]["after"]["title"] == "선물 포장 안내"
        and len(retitled["details"]["after"]["body_sha256"]) == 64
    )
    assert deleted["target"] == "article:gift-wrap-ko" and deleted["details"]["before"]["title"] == "선물 포장 안내"
    assert answer[0]["details"]["before"]["texts"] == texts and answer[0]["details"]["after"]["texts"] == changed
    activation = trail[1]["details"]
    assert activation["status"] == "active" and activation["model"] == str(demo_model_dir)
    assert trail[2]["details"]["before"]["model_version"] == demo_model.version
    erased = trail[0]
    assert erased["target"] == hashed("customer", "customer-9") and "customer-9" not in str(erased)
    assert erased["details"]["suggestions"] == 1
    assert since_now == [] and by_nobody == []
    assert reviewer.status_code == 403 and bad_time.status_code == 422


def test_key_and_deletion_commands_are_audited_as_the_local_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database_url = f"sqlite:///{tmp_path / 'events.db'}"
    monkeypatch.setenv("DEFLECT_DATABASE_URL", database_url)
    keys_file = str(tmp_path / "keys.json")

    assert main(["keys", "create", "--name", "kakao-channel", "--role", "server", "--file", keys_file]) == 0
    assert main(["keys", "revoke", "--name", "kakao-channel", "--file", keys_file]) == 0
    assert main(["events", "delete", "--conversation", "kakao-58121"]) == 0

    store = EventStore.open(database_url)
    trail = list(reversed(AuditLog(store).entries()))
    store.close()
    assert [entry.action for entry in trail] == ["key.create", "key.revoke", "conversation.delete"]
    assert {entry.actor for entry in trail} == {command_line_actor().name}
    created, revoked, erased = trail
    assert created.target == revoked.target and created.details["after"]["role"] == "server"
    assert revoked.details["before"]["name"] == "kakao-channel" and "secret" not in str(created.details)
    assert erased.target == hashed("conversation", "kakao-58121")


def test_the_audit_trail_outlives_the_event_retention(database_url: str) -> None:
    store = EventStore.open(database_url)
    audit = AuditLog(store)
    now = datetime.now(UTC)
    with store.session() as session:
        for days_ago, action in ((400, "article.delete"), (2000, "key.revoke")):
            entry = AuditEntry(
                at=now - timedelta(days=days_ago),
                actor="ops",
                actor_key_id="k-1",
                action=action,
                target="t",
                details={},
            )
            session.add(entry)

    purge_expired(store, retention_days=90, audit_retention_days=1825)

    assert [entry.action for entry in audit.entries()] == ["article.delete"]
    assert audit.entries(AuditQuery(until=now - timedelta(days=500))) == []
    store.close()
