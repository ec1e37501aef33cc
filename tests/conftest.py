"""Shared fixtures: one demo model (with its context gate, as `make build` trains it) and one demo index, trained and
built for real once per test session."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from live_server import chromium  # noqa: E402

from benchmarks.paths import CONVERSATIONS  # noqa: E402
from deflect.cli.main import main  # noqa: E402
from deflect.core.demo import DEMO_ARTICLES, DEMO_DIR  # noqa: E402
from deflect.core.settings import Settings  # noqa: E402
from deflect.intent.model import IntentModel  # noqa: E402
from deflect.retrieval.build import run_indexing  # noqa: E402
from deflect.retrieval.index import ArticleIndex  # noqa: E402
from deflect.training.run import run_training  # noqa: E402
from deflect.training.trainer import TrainingArguments  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def demo_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models") / "demo"
    run_training(DEMO_DIR, out, TrainingArguments(), conversations=CONVERSATIONS)
    return out


@pytest.fixture(scope="session")
def second_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another real version of the demo model (another seed, so another fingerprint and version)."""
    out = tmp_path_factory.mktemp("models") / "demo-v2"
    run_training(DEMO_DIR, out, TrainingArguments(seed=7, folds=3, c_values=(30.0,)))
    return out


@pytest.fixture(scope="session")
def optimized_model_dir(demo_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo model with its encoder exported by `deflect optimize` (int8 ONNX Runtime), as `make build` serves it."""
    folder = tmp_path_factory.mktemp("optimized") / "demo"
    shutil.copytree(demo_model_dir, folder)
    assert main(["optimize", "--model", str(folder), "--data", str(DEMO_DIR)]) == 0
    return folder


@pytest.fixture(scope="session")
def demo_model(demo_model_dir: Path) -> IntentModel:
    return IntentModel.from_pretrained(demo_model_dir)


@pytest.fixture(scope="session")
def demo_index_dir(tmp_path_factory: pytest.TempPathFactory, demo_model: IntentModel) -> Path:
    out = tmp_path_factory.mktemp("indexes") / "demo"
    run_indexing(DEMO_ARTICLES, out, demo_model.encoder.reference)
    return out


@pytest.fixture(scope="session")
def demo_index(demo_index_dir: Path, demo_model: IntentModel) -> ArticleIndex:
    return ArticleIndex.load(demo_index_dir, encoder=demo_model.encoder)


@pytest.fixture()
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    if not SHARED_DATASETS.is_dir():
        pytest.skip("../shared/datasets is not beside the project")
    return SHARED_DATASETS


@pytest.fixture()
def app_settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings of an app storing its events in `database_url`, with its own key file."""
    return Settings(api_keys_file=tmp_path / "keys.json", database_url=database_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each kind: a SQLite file, or a PostgreSQL schema of its own in the `test` database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'events.db'}"
        return
    schema = f"deflect_test_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    with admin.connect() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium for a module's browser tests (a Playwright Browser)."""
    with chromium() as browser:
        yield browser
