"""Shadow mode: a candidate model scores live traffic beside the active one, stores what it would have decided,
and never changes an answer; the shadow report compares the two."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role
from deflect.conversation.policy import ConversationSignals
from deflect.conversation.shadow_feed import ShadowJob
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.evaluation.shadow import compare_shadow
from deflect.intent.model import IntentModel
from deflect.lifecycle.shadow import start_shadow, stop_shadow
from deflect.retrieval.index import ArticleIndex
from deflect.store.events import EventStore
from deflect.store.tables import ShadowPrediction

MESSAGES = ["택배가 어디에 있나요?", "how do i reset my password", "do you sell pianos", "쿠폰 등록은 어디서 해요?"]


def test_a_shadow_model_scores_live_traffic_without_changing_answers(
    tmp_path: Path, demo_model: IntentModel, demo_index: ArticleIndex, demo_index_dir: Path, second_model_dir: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'events.db'}"
    settings = Settings(
        api_keys_file=tmp_path / "keys.json", database_url=database, answers_overrides_file=tmp_path / "answers.json"
    )
    admin, _ = KeyStore(settings.api_keys_file).create("ops", Role.ADMIN)
    candidate_version = IntentModel.from_pretrained(second_model_dir).version
    with TestClient(
        create_app(settings, Suggester(demo_model, demo_index, settings)), headers={"Authorization": f"Bearer {admin}"}
    ) as client:
        assert client.get("/admin/models/shadow").json()["status"] == "off"
        started = client.post(
            "/admin/models/shadow", json={"model": str(second_model_dir), "index": str(demo_index_dir)}
        )
        assert started.status_code == 202
        deadline = time.monotonic() + 120
        while (state := client.get("/admin/models/shadow").json())["status"] == "loading":
            assert time.monotonic() < deadline, "the shadow model did not load in 2 minutes"
            time.sleep(0.1)
        assert state["status"] == "active" and state["shadow_model_version"] == candidate_version

        answers = [client.post("/v1/suggest", json={"text": text}).json() for text in MESSAGES]
        assert {answer["model_version"] for answer in answers} == {demo_model.version}
        assert client.app.state.service.shadow.drain(timeout=60)
        assert b'deflect_shadow_predictions_total{outcome="scored"} 4.0' in client.get("/metrics").content

        assert client.delete("/admin/models/shadow").json()["status"] == "off"
        assert client.delete("/admin/models/shadow").status_code == 404
        client.post("/v1/suggest", json={"text": "환불 언제 되나요"})

    store = EventStore(database)
    [comparison] = compare_shadow(store)
    assert comparison.shadow_version == candidate_version and comparison.active_versions == [demo_model.version]
    assert [pair.suggestion_id for pair in comparison.pairs] == [answer["suggestion_id"] for answer in answers]
    by_text = {pair.text: pair for pair in comparison.pairs}
    assert by_text["택배가 어디에 있나요?"].shadow_intent == "delivery_status"
    assert by_text["do you sell pianos"].active_intent == "out_of_scope"
    store.close()


def test_stopping_shadow_mode_drops_its_backlog_instead_of_scoring_it_first(
    tmp_path: Path, demo_model: IntentModel, demo_index: ArticleIndex
) -> None:
    settings = Settings(
        api_keys_file=tmp_path / "keys.json",
        database_url=f"sqlite:///{tmp_path / 'events.db'}",
        answers_overrides_file=tmp_path / "answers.json",
        auth_enabled=False,
    )
    with TestClient(create_app(settings, Suggester(demo_model, demo_index, settings))) as client:
        service = client.app.state.service
        suggestion_id = client.post("/v1/suggest", json={"text": "택배가 어디에 있나요?"}).json()["suggestion_id"]
        start_shadow(service, Suggester(demo_model, demo_index, settings))
        shadow = service.shadow
        signals = ConversationSignals()
        for text in MESSAGES * 100:  # a burst far faster than the candidate scores: the backlog fills up
            shadow.submit(ShadowJob(suggestion_id, text, None, signals))

        assert stop_shadow(service)
        shadow.submit(ShadowJob(suggestion_id, "late message", None, signals))

        registry = service.metrics.registry
        outcomes = {
            outcome: registry.get_sample_value("deflect_shadow_predictions_total", {"outcome": outcome}) or 0
            for outcome in ("scored", "failed", "dropped")
        }
    assert outcomes["failed"] == 0 and outcomes["dropped"] > outcomes["scored"]
    assert outcomes["scored"] + outcomes["dropped"] == len(MESSAGES) * 100 + 1
    with EventStore(settings.database_url).session() as session:
        assert session.scalar(select(func.count()).select_from(ShadowPrediction)) == outcomes["scored"]
