"""The smaller findings of the outside review, each as an attacker would try it: overlong activation paths, links
that would run script in the widget, an event database other users can read, bodies that are not UTF-8."""

from __future__ import annotations

import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_clients import api_clients
from fastapi.testclient import TestClient

from deflect.api.auth import Role
from deflect.core.errors import DataFormatError
from deflect.core.settings import Settings
from deflect.ingest.articles import load_articles
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex
from deflect.store.events import migrate


@pytest.fixture()
def settings(tmp_path: Path, demo_index_dir: Path) -> Settings:
    index_dir = tmp_path / "index"
    shutil.copytree(demo_index_dir, index_dir)
    return Settings(
        index_dir=index_dir,
        database_url=f"sqlite:///{tmp_path}/events.db",
        api_keys_file=tmp_path / "keys.json",
        answers_overrides_file=tmp_path / "answers.json",
    )


@pytest.fixture()
def clients(settings: Settings, demo_model: IntentModel) -> Iterator[dict[str, TestClient]]:
    index = ArticleIndex.load(settings.index_dir, encoder=demo_model.encoder)
    with api_clients(settings, demo_model, index, ops=Role.ADMIN, widget=Role.WIDGET) as running:
        yield running


@pytest.mark.parametrize("route", ["/admin/models/activate", "/admin/models/shadow"])
def test_a_path_too_long_for_the_file_system_is_refused_not_a_server_error(
    clients: dict[str, TestClient], route: str
) -> None:
    overlong = "/tmp/" + "m" * 300

    response = clients["ops"].post(route, json={"model": overlong, "index": overlong})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and "not a usable path on the server" in error["message"]


ARTICLE = {
    "title": "Can I pick up with my dog?",
    "body": "Pets on a leash are welcome in the pickup lounge.",
    "locale": "en",
    "intents": [],
}


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "java\tscript:alert(1)",
        " javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "//evil.example/phish",
        "/\\evil.example/phish",
        "https://",
        "help/pets",
    ],
)
def test_article_links_that_would_run_script_or_leave_the_site_are_refused(
    clients: dict[str, TestClient], url: str
) -> None:
    response = clients["ops"].put("/admin/articles/pets-en", json={**ARTICLE, "url": url})

    assert response.status_code == 422, url
    assert "url" in response.json()["error"]["message"]
    assert "pets-en" not in [article["id"] for article in clients["ops"].get("/admin/articles").json()]


@pytest.mark.parametrize(
    "url", ["https://help.haneulmarket.example/en/pets", "http://intranet.example/pets", "/help/pets"]
)
def test_http_links_and_site_paths_are_accepted_and_answered(clients: dict[str, TestClient], url: str) -> None:
    response = clients["ops"].put("/admin/articles/pets-en", json={**ARTICLE, "url": url})

    assert response.status_code == 200, response.text
    suggested = clients["widget"].post("/v1/suggest", json={"text": "Can I bring my dog to the pickup lounge?"})
    assert url in [article["url"] for article in suggested.json()["articles"]]


def test_help_center_files_with_a_script_link_name_the_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "pets.md").write_text(
        "---\nid: pets\ntitle: Pets\nlocale: en\nurl: javascript:alert(1)\n---\nPets are welcome.\n", encoding="utf-8"
    )
    with pytest.raises(DataFormatError, match=r"pets.md, line 2: url 'javascript:alert\(1\)' must be an http\(s\) URL"):
        load_articles(folder)

    table = tmp_path / "articles.csv"
    table.write_text(
        'id,title,body,locale,url\nok,Fine,Body,en,/help/ok\nbad,Bad,Body,en,"data:text/html;base64,PHNjcmlwdD4="\n',
        encoding="utf-8",
    )
    with pytest.raises(DataFormatError, match=r"articles.csv, line 3: url 'data:text/html"):
        load_articles(table)


def test_a_new_sqlite_event_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "state" / "events.db"

    migrate(f"sqlite:///{database}")

    assert database.stat().st_size > 0
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_a_body_that_is_not_utf8_is_a_documented_400(clients: dict[str, TestClient]) -> None:
    response = clients["widget"].post(
        "/v1/suggest", content=b'{"text": "\xff\xfe \xed\x95\x98"}', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_body"

    operations = [
        (path, method, operation)
        for path, methods in clients["widget"].get("/openapi.json").json()["paths"].items()
        for method, operation in methods.items()
        if "requestBody" in operation
    ]
    assert len(operations) >= 5
    undocumented = [
        f"{method.upper()} {path}" for path, method, operation in operations if "400" not in operation["responses"]
    ]
    assert undocumented == []
