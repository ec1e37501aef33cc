"""Admin routes change articles and answer templates under a running service, and swap in another model + index
version while requests keep flowing: a real uvicorn server, a real second model."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from api_clients import api_clients
from fastapi.testclient import TestClient

from deflect.api.app import create_app
from deflect.api.auth import KeyStore, Role
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex


@pytest.fixture()
def settings(tmp_path: Path, demo_index_dir: Path) -> Settings:
    """A private copy of the demo index (admin changes are saved into the served index) and key files."""
    index_dir = tmp_path / "index"
    shutil.copytree(demo_index_dir, index_dir)
    return Settings(
        index_dir=index_dir,
        api_keys_file=tmp_path / "keys.json",
        answers_overrides_file=tmp_path / "answers.json",
    )


@pytest.fixture()
def admin(settings: Settings, demo_model: IntentModel) -> Iterator[TestClient]:
    index = ArticleIndex.load(settings.index_dir, encoder=demo_model.encoder)
    with api_clients(settings, demo_model, index, ops=Role.ADMIN) as clients:
        yield clients["ops"]


PET_ARTICLE = {
    "title": "반려동물과 함께 픽업할 수 있나요?",
    "body": "하늘마켓 픽업 라운지에는 반려동물과 함께 오실 수 있어요. 목줄을 착용해 주세요.\n\n"
    "## 이동장\n\n작은 반려동물은 이동장에 넣어 주세요.",
    "locale": "ko",
    "url": "https://help.haneulmarket.example/ko/articles/pets-pickup",
    "intents": [],
}


def test_widget_keys_cannot_use_admin_routes(admin: TestClient, settings: Settings) -> None:
    widget, _ = KeyStore(settings.api_keys_file).create("widget", Role.WIDGET)

    response = admin.get("/admin/articles", headers={"Authorization": f"Bearer {widget}"})

    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def test_an_article_added_through_the_api_is_suggested_at_once_and_survives_a_restart(
    admin: TestClient, settings: Settings, demo_model: IntentModel
) -> None:
    question = {"text": "반려동물 데리고 픽업 라운지 가도 되나요?"}
    before = [a["id"] for a in admin.post("/v1/suggest", json=question).json()["articles"]]

    added = admin.put("/admin/articles/pets-pickup-ko", json=PET_ARTICLE)
    after = [a["id"] for a in admin.post("/v1/suggest", json=question).json()["articles"]]

    assert added.status_code == 200 and added.json()["added"] == 1 and added.json()["embedded_chunks"] >= 2
    assert "pets-pickup-ko" not in before and after[0] == "pets-pickup-ko"
    assert "pets-pickup-ko" in ArticleIndex.load(settings.index_dir, encoder=demo_model.encoder).articles

    assert admin.delete("/admin/articles/pets-pickup-ko").json()["deleted"] == 1
    assert "pets-pickup-ko" not in [a["id"] for a in admin.post("/v1/suggest", json=question).json()["articles"]]
    assert admin.delete("/admin/articles/pets-pickup-ko").status_code == 404


def test_answer_templates_change_bot_answers_without_a_restart(admin: TestClient, settings: Settings) -> None:
    question = {"text": "택배가 어디에 있나요?"}
    template = {
        "article_group": "delivery-tracking",
        "texts": {
            "ko": "배송 조회는 주문 상세에서 바로 하실 수 있어요: {article_link}",
            "en": "Track it here: {article_link}",
        },
    }

    changed = admin.put("/admin/answers/delivery_status", json=template)
    answer = admin.post("/v1/suggest", json=question).json()["answer"]

    assert changed.status_code == 200
    assert answer["text"] == (
        "배송 조회는 주문 상세에서 바로 하실 수 있어요: https://help.haneulmarket.example/ko/articles/delivery-tracking"
    )
    assert '"delivery_status"' in settings.answers_overrides_file.read_text()

    assert admin.delete("/admin/answers/delivery_status").status_code == 204
    without = admin.post("/v1/suggest", json=question).json()
    assert without["decision"] == "suggest_articles" and without["reason_code"] == "no_answer_template"

    no_link = admin.put("/admin/answers/delivery_status", json={**template, "texts": {"ko": "링크 없음"}})
    unknown = admin.put("/admin/answers/not_an_intent", json=template)
    assert no_link.status_code == 422 and "{article_link}" in no_link.json()["error"]["message"]
    assert unknown.status_code == 404


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_activating_another_model_under_load_fails_no_request(
    settings: Settings, demo_model_dir: Path, second_model_dir: Path
) -> None:
    key, _ = KeyStore(settings.api_keys_file).create("ops", Role.ADMIN)
    served = Settings(**{**settings.model_dump(), "model_dir": demo_model_dir})
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(served), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    while not server.started:
        time.sleep(0.05)

    results: list[tuple[int, str]] = []
    stop = threading.Event()

    def customer() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            while not stop.is_set():
                response = client.post("/v1/suggest", json={"text": "비밀번호를 잊어버렸어요"})
                results.append((response.status_code, response.json().get("model_version", "")))

    customers = [threading.Thread(target=customer) for _ in range(4)]
    try:
        for thread in customers:
            thread.start()
        with httpx.Client(base_url=base, headers=headers, timeout=30) as admin:
            old_version = admin.get("/admin/models/activation").json()["active_model_version"]
            started = admin.post(
                "/admin/models/activate", json={"model": str(second_model_dir), "index": str(settings.index_dir)}
            )
            assert started.status_code == 202 and started.json()["status"] == "loading"
            busy = admin.post(
                "/admin/models/activate", json={"model": str(second_model_dir), "index": str(settings.index_dir)}
            )
            assert busy.status_code in (202, 409)
            deadline = time.monotonic() + 120
            while (state := admin.get("/admin/models/activation").json())["status"] == "loading":
                assert time.monotonic() < deadline, "activation did not finish in 2 minutes"
                time.sleep(0.1)
            time.sleep(0.5)  # keep the load on after the swap
            missing = admin.post("/admin/models/activate", json={"model": "/nowhere", "index": "/nowhere"})
    finally:
        stop.set()
        for thread in customers:
            thread.join()
        server.should_exit = True

    assert state["status"] == "active" and state["active_model_version"] != old_version
    assert missing.status_code == 404
    statuses = {status for status, _ in results}
    versions = [version for _, version in results]
    assert statuses == {200}, f"failed requests during the swap: {statuses}"
    assert versions[0] == old_version and versions[-1] == state["active_model_version"]
