"""Loading utterances and articles from every supported format, and what a user sees when a file is wrong."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from deflect.core.demo import DEMO_ARTICLES, DEMO_LABELS, DEMO_TEST, DEMO_TRAIN, DEMO_VALIDATION
from deflect.core.errors import DataFormatError
from deflect.core.records import OUT_OF_SCOPE
from deflect.core.text import detect_locale
from deflect.ingest.articles import load_articles, read_articles
from deflect.ingest.labels import load_label_names
from deflect.ingest.utterances import load_utterances, read_rows


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_locale_and_jsonl_without(tmp_path: Path) -> None:
    csv_file = write(
        tmp_path / "u.csv",
        'text,label,locale\n"where is my parcel, please",delivery_status,en\n택배 어디?,delivery_status,ko-KR\n',
    )
    jsonl_file = write(
        tmp_path / "u.jsonl",
        '{"text": "cancel my order", "label": "order_cancel"}\n\n{"text": "환불 언제", "label": "refund_status"}\n',
    )

    from_csv = load_utterances(csv_file)
    from_jsonl = load_utterances(jsonl_file)

    assert [(u.text, u.label, u.locale) for u in from_csv] == [
        ("where is my parcel, please", "delivery_status", "en"),
        ("택배 어디?", "delivery_status", "ko"),
    ]
    assert [(u.label, u.locale) for u in from_jsonl] == [("order_cancel", None), ("refund_status", None)]


def test_saved_hugging_face_dataset_with_class_labels(tmp_path: Path) -> None:
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    features = Features({"text": Value("string"), "label": ClassLabel(names=["order_cancel", "refund_status"])})
    DatasetDict(
        {"train": Dataset.from_dict({"text": ["cancel it", "refund when?"], "label": [0, 1]}, features=features)}
    ).save_to_disk(str(tmp_path / "hf"))

    utterances = load_utterances(tmp_path / "hf", "train")

    assert [(u.text, u.label) for u in utterances] == [("cancel it", "order_cancel"), ("refund when?", "refund_status")]


def test_shared_banking77_and_clinc150(shared_datasets: Path) -> None:
    banking_test = load_utterances(shared_datasets / "banking77", "test")
    clinc_validation = load_utterances(shared_datasets / "clinc150", "validation")

    assert len(banking_test) == 3080 and len({u.label for u in banking_test}) == 77
    assert len(clinc_validation) == 3000 + 100
    assert sum(u.label == OUT_OF_SCOPE for u in clinc_validation) == 100
    with pytest.raises(DataFormatError, match="BANKING77 has no split 'validation' \\(found: test, train\\)"):
        load_utterances(shared_datasets / "banking77", "validation")


def test_demo_data_is_bilingual_and_split() -> None:
    train, validation, test = load_utterances(DEMO_TRAIN), load_utterances(DEMO_VALIDATION), load_utterances(DEMO_TEST)
    labels = load_label_names(DEMO_LABELS)
    train_texts = {u.text for u in train}

    assert not train_texts & {u.text for u in test}, "the test split must be unseen in training"
    assert not (train_texts | {u.text for u in test}) & {u.text for u in validation}, "validation is a split of its own"
    for split in (validation, test):
        per_intent_and_locale = Counter((u.label, u.locale) for u in split)
        assert set(per_intent_and_locale.values()) == {10, 65}, "10 per intent and 65 out of scope, per language"
    for locale in ("ko", "en"):
        in_locale = [u for u in train + test if u.locale == locale]
        intents = {u.label for u in in_locale} - {OUT_OF_SCOPE}
        assert len(intents) >= 25
        assert all(sum(u.label == i for u in in_locale) >= 30 for i in intents)
        assert sum(u.label == OUT_OF_SCOPE for u in in_locale) >= 200
    assert set(labels) >= {u.label for u in train} - {OUT_OF_SCOPE}
    assert labels["delivery_status"].display_name("ko") == "배송 조회"
    delivery = {u.text for u in train + test if u.label == "delivery_status"}
    assert {"배송이 아직 도착하지 않았어요", "택배가 어디에 있나요?"} <= delivery


def test_demo_articles_have_twins_in_both_languages() -> None:
    articles = load_articles(DEMO_ARTICLES)
    by_group: dict[str, set[str]] = {}
    for article in articles:
        by_group.setdefault(article.group_id, set()).add(article.locale)

    assert len(by_group) >= 40
    assert all(locales == {"ko", "en"} for locales in by_group.values())
    assert all(article.intents and article.url.startswith("https://") for article in articles)


def test_zendesk_export_is_parsed_with_html_structure(fixtures: Path) -> None:
    articles = load_articles(fixtures / "zendesk_articles.json")

    assert [(a.id, a.locale, a.group_id) for a in articles] == [
        ("360001-ko", "ko", "360001"),
        ("360001-en", "en", "360001"),
    ]
    korean = articles[0]
    assert korean.intents == ("delivery_status",)
    assert "마이페이지 > 주문/배송 조회" in korean.body
    assert "## 송장번호 확인" in korean.body and "- 출고 후 송장번호가" in korean.body
    assert "track()" not in korean.body
    assert [s.reason for s in read_articles(fixtures / "zendesk_articles.json").skipped] == ["draft"]


def test_html_pages_keep_structure_and_metadata_and_skip_what_cannot_be_linked(fixtures: Path) -> None:
    collection = read_articles(fixtures / "html_help_center")

    [article] = collection.articles
    assert article.id == "return-window"
    assert article.title == "반품은 언제까지 신청할 수 있나요?"
    assert article.locale == "ko"
    assert article.url == "https://help.haneulmarket.example/ko/articles/return-window"
    assert article.intents == ("return_request", "refund_request")
    assert (article.section, article.updated_at) == ("반품/환불", "2026-10-20T10:00:00+09:00")
    assert "## 반품이 안 되는 경우" in article.body and "- 주문 제작 상품" in article.body
    assert not any(noise in article.body for noise in ("trackView", "고객센터 홈", "관련 글", "© 하늘마켓"))
    assert [(Path(s.source).name, s.reason) for s in collection.skipped] == [
        ("no-canonical.html", 'no url (add <link rel="canonical" href="…">)')
    ]


def test_csv_articles_take_markdown_or_html_bodies_and_report_skips(fixtures: Path) -> None:
    collection = read_articles(fixtures / "articles.csv")

    english, korean = collection.articles
    assert (english.group_id, korean.group_id) == ("pay-methods", "pay-methods")
    assert korean.locale == "ko" and korean.intents == ("payment_methods",)
    assert "## 할부" in korean.body and "<p>" not in korean.body
    assert "## Instalments" in english.body
    assert [s.reason for s in collection.skipped] == ["draft", "no body text"]
    assert collection.skipped[0].source.endswith("articles.csv, line 7 (id coming-soon-en)")


def test_locale_detection() -> None:
    assert detect_locale("택배가 어디에 있나요?") == "ko"
    assert detect_locale("쿠폰 code 안먹어요") == "ko"
    assert detect_locale("where is my parcel") == "en"
    assert detect_locale("ㅠㅠ") == "ko"
    assert detect_locale("12345", default="ko") == "ko"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad.csv", "text,label\nhello,greeting\n,empty_text\n", "bad.csv, line 3: 'text' is empty"),
        ("bad.csv", "text,label\nhello,greeting,extra\n", "bad.csv, line 2: more cells than header columns"),
        ("bad.csv", "utterance,label\nhello,greeting\n", "bad.csv, line 1: the header must have a 'text' column"),
        ("bad.csv", "text,label\nhello,\n", "bad.csv, line 2: 'label' is missing or empty"),
        ("bad.jsonl", '{"text": "ok", "label": "a"}\n{"text": "broken", \n', "bad.jsonl, line 2: invalid JSON"),
        ("bad.jsonl", '{"text": 42, "label": "a"}\n', "bad.jsonl, line 1: 'text' must be a string"),
        ("bad.txt", "hello\n", "bad.txt: unsupported file type .txt"),
    ],
)
def test_malformed_utterance_files_name_file_line_and_problem(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    path = write(tmp_path / name, content)

    with pytest.raises(DataFormatError) as error:
        load_utterances(path)

    assert str(error.value).startswith(f"{tmp_path}/{expected}")


def test_non_utf8_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("text,label\ncafé,x\n".encode("latin-1"))

    with pytest.raises(DataFormatError, match="latin1.csv: not UTF-8 text"):
        read_rows(path)


def test_malformed_articles_name_file_line_and_problem(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    write(folder / "a.md", "---\nid: a\ntitle: [unclosed\nlocale: en\nurl: https://x\n---\nbody\n")
    with pytest.raises(DataFormatError, match=r"a.md, line \d+: invalid YAML front matter"):
        load_articles(folder)

    write(folder / "a.md", "---\nid: a\ntitle: Title\nlocale: en\n---\nbody\n")
    with pytest.raises(DataFormatError, match="a.md, line 2: front matter is missing url"):
        load_articles(folder)

    export = write(tmp_path / "export.json", json.dumps({"articles": [{"id": 1, "title": "t", "locale": "en"}]}))
    with pytest.raises(DataFormatError, match=r"export.json, articles\[0\]: missing body, html_url"):
        load_articles(export)

    table = write(tmp_path / "articles.csv", "id,title,body,locale,url\na,Title,Body,en,\n")
    with pytest.raises(DataFormatError, match="articles.csv, line 2: 'url' is missing or empty"):
        load_articles(table)

    table = write(tmp_path / "articles.csv", "id,title,text\na,Title,Body\n")
    with pytest.raises(DataFormatError, match="articles.csv, line 1: the header is missing body, locale, url"):
        load_articles(table)
