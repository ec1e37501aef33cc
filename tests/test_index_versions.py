"""Index versions are immutable: an article change through the admin API is saved as a new version folder the index
root then points at, the registry records it, the folder promoted stays byte for byte as it was, and a process
killed at any step of a save leaves a root that loads (the old version or the new one, never a mix)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_clients import api_clients
from fastapi.testclient import TestClient

from deflect.api.auth import Role
from deflect.conversation.suggester import Suggester
from deflect.core.demo import DEMO_ARTICLES
from deflect.core.records import Article
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.lifecycle.registry import ModelRegistry, new_entry, registry_model
from deflect.retrieval.build import run_indexing
from deflect.retrieval.index import ArticleIndex
from deflect.retrieval.versions import POINTER_FILE, SAVE_STEPS, list_versions, prune, read_pointer, served_folder

ARTICLE = {
    "title": "반려동물과 함께 픽업할 수 있나요?",
    "body": "하늘마켓 픽업 라운지에는 반려동물과 함께 오실 수 있어요. 목줄을 착용해 주세요.",
    "locale": "ko",
    "url": "https://help.haneulmarket.example/ko/articles/pets-pickup",
    "intents": [],
}


def _notice(article_id: str) -> Article:
    url = f"https://help.haneulmarket.example/ko/articles/{article_id}"
    return Article(article_id, f"공지 {article_id}", f"{article_id} 공지 내용입니다.", "ko", url, article_id)


def _fingerprint(folder: Path) -> dict[str, str]:
    """Every file directly in `folder` (an index's own files, not its versions) with the hash of its bytes."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
        if path.is_file() and path.name != POINTER_FILE
    }


@pytest.fixture()
def index_root(tmp_path: Path, demo_index_dir: Path) -> Path:
    root = tmp_path / "index"
    shutil.copytree(demo_index_dir, root)
    return root


@pytest.fixture()
def settings(tmp_path: Path, index_root: Path, demo_model_dir: Path) -> Settings:
    return Settings(
        model_dir=demo_model_dir,
        index_dir=index_root,
        api_keys_file=tmp_path / "keys.json",
        answers_overrides_file=tmp_path / "answers.json",
        model_registry_file=tmp_path / "registry.json",
    )


@pytest.fixture()
def admin(settings: Settings, demo_model: IntentModel) -> Iterator[TestClient]:
    index = ArticleIndex.load(settings.index_dir, encoder=demo_model.encoder)
    with api_clients(settings, demo_model, index, ops=Role.ADMIN) as clients:
        yield clients["ops"]


def test_an_admin_article_change_is_a_new_version_the_registry_records(
    admin: TestClient, settings: Settings, demo_model: IntentModel, index_root: Path
) -> None:
    registry = ModelRegistry(settings.model_registry_file)
    promoted = registry.promote(new_entry(settings.model_dir, index_root, demo_model.version, {}, "demo validation"))
    promoted_files = _fingerprint(index_root)

    assert admin.put("/admin/articles/pets-pickup-ko", json=ARTICLE).status_code == 200
    assert admin.delete("/admin/articles/pets-pickup-ko").status_code == 200

    versions = list_versions(index_root)
    pointer = read_pointer(index_root)
    assert [number for number, _, _ in versions] == [1, 2]
    assert pointer is not None and pointer.folder == f"versions/{versions[-1][2].name}"
    assert _fingerprint(index_root) == promoted_files  # the promoted folder never changes
    assert "pets-pickup-ko" in ArticleIndex.load(versions[0][2], encoder=demo_model.encoder).articles
    assert "pets-pickup-ko" not in ArticleIndex.load(index_root, encoder=demo_model.encoder).articles

    active = registry.active()
    assert active is not None and promoted.index_version is not None
    assert active.index_version == promoted.index_version  # what was promoted stays on record
    assert active.served_index is not None and active.served_index.index_version == pointer.version
    assert Path(active.served_index.folder) == versions[-1][2].resolve()
    served = registry_model(settings.model_registry_file, explicit=False)
    assert served is not None and Path(served.index_dir).resolve() == index_root.resolve()


def test_deflect_index_on_a_root_with_versions_adds_a_version_and_keeps_the_others(
    admin: TestClient, demo_model: IntentModel, index_root: Path
) -> None:
    assert admin.put("/admin/articles/pets-pickup-ko", json=ARTICLE).status_code == 200
    first = list_versions(index_root)[0][2]
    first_files = _fingerprint(first)

    outcome = run_indexing(DEMO_ARTICLES, index_root, demo_model.encoder.reference)

    assert outcome.action == "updated" and outcome.version_folder is not None
    assert served_folder(index_root) == outcome.version_folder
    assert _fingerprint(first) == first_files
    assert "pets-pickup-ko" not in ArticleIndex.load(index_root, encoder=demo_model.encoder).articles


def test_pruning_keeps_the_served_and_the_protected_versions(
    demo_model: IntentModel, demo_index: ArticleIndex, index_root: Path
) -> None:
    index = ArticleIndex.load(index_root, encoder=demo_model.encoder)
    folders = []
    for number in range(4):
        index.apply([*index.articles.values(), _notice(f"notice-{number}")], source="test")
        folders.append(index.save_version(index_root))

    removed = prune(index_root, keep=1, protected=[folders[0]])

    assert removed == [folders[1], folders[2]]
    assert [path for _, _, path in list_versions(index_root)] == [folders[0], folders[3]]
    assert served_folder(index_root) == folders[3]


KILLED_SAVE = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from deflect.conversation.suggester import Suggester
    from deflect.core.records import Article
    from deflect.core.settings import Settings
    from deflect.retrieval import versions

    model_dir, index_dir, step = sys.argv[1:]
    suggester = Suggester.load(Settings(model_dir=Path(model_dir), index_dir=Path(index_dir)))
    versions.after_step = lambda done: os._exit(9) if done == step else None
    url = "https://help.haneulmarket.example/ko/articles/pets-pickup"
    pets = Article("pets-pickup-ko", "반려동물 픽업", "반려동물과 오셔도 돼요.", "ko", url, "pets-pickup")
    suggester.upsert_article(pets)
    """
)


@pytest.mark.parametrize("step", SAVE_STEPS)
def test_a_process_killed_at_any_step_of_a_save_leaves_a_loadable_index(
    step: str, demo_model_dir: Path, demo_model: IntentModel, index_root: Path
) -> None:
    before = set(ArticleIndex.load(index_root, encoder=demo_model.encoder).articles)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_SAVE, str(demo_model_dir), str(index_root), step], capture_output=True, text=True
    )
    assert killed.returncode == 9, killed.stderr  # it ended itself right after `step`, with no clean-up

    restarted = Suggester.load(Settings(model_dir=demo_model_dir, index_dir=index_root))
    pointer_switched = SAVE_STEPS.index(step) >= SAVE_STEPS.index("pointer")
    assert set(restarted.index.articles) == (before | {"pets-pickup-ko"} if pointer_switched else before)

    restarted.upsert_article(_notice("after-restart"))
    leftovers = [path.name for path in (index_root / "versions").iterdir() if path.name.startswith(".staging-")]
    assert leftovers == []
    assert "after-restart" in ArticleIndex.load(index_root, encoder=demo_model.encoder).articles
