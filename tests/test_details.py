"""The details extractor with the demo store's details file: what an agent is handed from Korean and English
messages, what is left alone, how a conversation's details are gathered, and what a broken details file says."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.details_benchmark import TOGETHER, evaluate, load_turns
from deflect.conversation.details import Detail, DetailsConfigError, DetailsExtractor
from deflect.core.demo import DEMO_DETAILS


@pytest.fixture(scope="module")
def extractor() -> DetailsExtractor:
    return DetailsExtractor.from_file(DEMO_DETAILS)


def found(extractor: DetailsExtractor, text: str) -> list[tuple[str, str | None]]:
    return [(detail.kind, detail.value) for detail in extractor.extract(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # order numbers: dashed, 15 digits typed without the dash, legacy 13 digits (before 2024)
        ("주문번호는 20261103-0012345예요", [("order_number", "20261103-0012345")]),
        ("cancel order 202611030012345 please", [("order_number", "20261103-0012345")]),
        ("작년 주문인데 2310050012345 이거요", [("order_number", "2310050012345")]),
        # tracking numbers: 4-4-4, or 12 bare digits after a parcel word
        ("운송장 5520-8841-0376", [("tracking_number", "552088410376")]),
        ("송장 558203917746 이요", [("tracking_number", "558203917746")]),
        ("tracking was 448120937765", [("tracking_number", "448120937765")]),
        # product codes, in the ways customers type them
        ("HM-20417 이 상품이요", [("product_code", "HM-20417")]),
        ("is hm-20933 back in stock? or HM 20933", [("product_code", "HM-20933"), ("product_code", "HM-20933")]),
        # amounts in won, with Korean units, and in dollars
        ("월 4,900원 맞죠?", [("amount", "4900 KRW")]),
        ("기프트카드 10만원짜리요", [("amount", "100000 KRW")]),
        ("3만 5천원 결제됐어요", [("amount", "35000 KRW")]),
        ("paid ₩4,900 got back 4900 won", [("amount", "4900 KRW"), ("amount", "4900 KRW")]),
        ("1,240,000원 노트북이요", [("amount", "1240000 KRW")]),
        ("it was $12.50 on the US site", [("amount", "12.50 USD")]),
        # dates: ISO with the year, --MM-DD without one
        ("11월 2일에 확정했어요", [("date", "--11-02")]),
        ("구매일은 2025-12-20 이에요", [("date", "2025-12-20")]),
        ("11/1 에 4,900원이요", [("date", "--11-01"), ("amount", "4900 KRW")]),
        ("I sent it back on November 10th", [("date", "--11-10")]),
        ("on Nov 3, or the 3rd of November", [("date", "--11-03"), ("date", "--11-03")]),
        # PII: only the fact that it was given
        ("새 번호 010-6620-3158 이에요", [("phone", None)]),
        ("환불계좌 352012345678 으로 적었어요", [("account", None)]),
        ("email me at minji.kim@example.com", [("email", None)]),
    ],
)
def test_details_of_a_message(extractor: DetailsExtractor, text: str, expected: list[tuple[str, str | None]]) -> None:
    assert found(extractor, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "202613450012345",  # 15 digits whose first eight are no date (month 13)
        "영업일 기준 7일이면 되나요",  # a number of days, not a date
        "키 170에 65키로면요? 250 → 255로요",  # sizes and measures
        "3개 원해요",  # 원하다, not won
        "it said 1-3 days, delivered at 14:02, 24/7 support, 1:1 inquiry",
        "카드 유효기간 12/28",  # a card's expiry (MM/YY), as private as the card
    ],
)
def test_what_is_not_a_detail(extractor: DetailsExtractor, text: str) -> None:
    assert found(extractor, text) == []


def test_the_words_around_twelve_digits_decide_between_parcel_and_bank_account(extractor: DetailsExtractor) -> None:
    assert found(extractor, "송장 352012345678") == [("tracking_number", "352012345678")]
    assert found(extractor, "계좌 352012345678 로 보내주세요") == [("account", None)]
    assert found(extractor, "352012345678") == []  # no word to decide by: neither
    # 4-4-4 is also a 토스뱅크 account: the PII finder's reading stands unless a parcel word is the nearest cue
    assert found(extractor, "토스뱅크 1000-1234-5678 로 환불") == [("account", None)]
    assert found(extractor, "택배 송장번호 알려드려요 5520-8841-0376") == [("tracking_number", "552088410376")]


def test_a_bare_thirteen_digit_number_with_a_birth_date_is_a_resident_number(extractor: DetailsExtractor) -> None:
    assert found(extractor, "2310051234567") == [("rrn", None)]
    assert found(extractor, "주문 2310051234567 이요") == [("order_number", "2310051234567")]


def test_a_phone_number_leaves_nothing_of_itself_in_the_detail(extractor: DetailsExtractor) -> None:
    [detail] = extractor.extract("연락처는 010-1234-5678 입니다")
    assert detail == Detail(kind="phone", value=None, text=None, given=True)
    assert "5678" not in repr(detail) and "5678" not in str(detail.as_dict())
    assert extractor.describe(detail, "ko") == "연락처 제공됨"
    assert extractor.describe(detail, "en") == "Phone number given"


def test_the_text_as_written_is_kept_beside_the_value(extractor: DetailsExtractor) -> None:
    [detail] = extractor.extract("주문번호 ２０２６１１０３－００１２３４５ 요")  # full-width digits and dash
    assert (detail.value, detail.text) == ("20261103-0012345", "２０２６１１０３－００１２３４５")
    assert extractor.describe(detail, "ko") == "주문번호: 20261103-0012345"
    assert extractor.describe(detail, "fr") == "주문번호: 20261103-0012345"  # the file's first locale


def test_a_conversation_gives_each_detail_once_with_the_turn_it_came_from(extractor: DetailsExtractor) -> None:
    details = extractor.extract_conversation(
        [
            "배송이 안 와요",
            "주문번호 20261103-0012345 이고 번호는 010-1234-5678",
            "202611030012345 맞아요, 4,900원 결제했어요",  # the same order without the dash
            "아 번호 바뀌었어요 010-9876-5432, 11월 2일에 샀어요",  # a second phone: still "phone given", once
        ]
    )
    assert [(d.kind, d.value, d.turn) for d in details] == [
        ("order_number", "20261103-0012345", 1),
        ("phone", None, 1),
        ("amount", "4900 KRW", 2),
        ("date", "--11-02", 3),
    ]
    assert [Detail.from_dict(d.as_dict()) for d in details] == details
    assert details[0].as_dict() == {
        "kind": "order_number",
        "value": "20261103-0012345",
        "text": "20261103-0012345",
        "given": False,
        "turn": 1,
    }


def test_order_and_tracking_numbers_clear_the_bar_on_the_validation_split(extractor: DetailsExtractor) -> None:
    together = evaluate(extractor, load_turns("validation"))["per_kind"][TOGETHER]
    assert together["precision"] >= 0.95 and together["recall"] >= 0.95


MINIMAL_KIND = """
    label: {ko: 주문번호, en: Order number}
    normaliser: digits
    patterns: ['\\d{15}']
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "details.yaml"
    path.write_text("locales: [ko, en]\n" + text, encoding="utf-8")
    return path


def test_a_deployment_brings_its_own_formats(tmp_path: Path) -> None:
    path = write(tmp_path, "kinds:\n  booking:\n" + MINIMAL_KIND.replace("\\d{15}", "BK-\\d{6}"))
    extractor = DetailsExtractor.from_file(path)
    assert [(d.kind, d.value) for d in extractor.extract("예약 BK-123456 이요")] == [("booking", "123456")]
    assert extractor.extract("010-1234-5678") == []  # no `pii_given`: PII is redacted, not mentioned


@pytest.mark.parametrize(
    ("kind_text", "problem"),
    [
        (MINIMAL_KIND.replace("'\\d{15}'", "'(\\d{15}'"), "kind order, patterns[0]: bad regular expression"),
        (MINIMAL_KIND.replace("normaliser: digits", "normaliser: digitz"), "kind order: unknown normaliser 'digitz'"),
        (MINIMAL_KIND.replace("patterns: ['\\d{15}']", ""), "kind order: missing field(s) patterns"),
        (MINIMAL_KIND.replace("patterns: ['\\d{15}']", "patterns: []"), "kind order: `patterns` must be a non-empty"),
        (MINIMAL_KIND.replace("en: Order number", "fr: Commande"), "kind order: unknown field(s) fr"),
        (MINIMAL_KIND + "    requires_cue: yes please\n", "kind order: `requires_cue` must be true or false"),
        (MINIMAL_KIND + "    requires_cue: true\n", "kind order: a pattern needs a cue"),
        (MINIMAL_KIND + "    over_pii: sometimes\n", "kind order: `over_pii` must be one of never, with_cue, always"),
        (" just a string\n", "kind order: a kind must be a mapping, not a string"),
    ],
)
def test_a_broken_details_file_names_the_file_the_kind_and_the_problem(
    tmp_path: Path, kind_text: str, problem: str
) -> None:
    path = write(tmp_path, "kinds:\n  order:" + ("\n" if kind_text.startswith("\n") else "") + kind_text)
    with pytest.raises(DetailsConfigError) as caught:
        DetailsExtractor.from_file(path)
    assert str(caught.value).startswith(f"{path}, {problem}")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- a list\n", "the file must be a mapping, not a list"),
        ("kinds: {}\n", "`kinds` names no kind of detail"),
        ("kinds:\n  phone:" + MINIMAL_KIND, "phone: `phone` is a PII kind"),
        ("kinds: order: {}\n", "line 2: not valid YAML: mapping values are not allowed here"),
        ("kinds:\n  order:" + MINIMAL_KIND + "pii_given: {phone: {ko: 연락처 제공됨}}\n", "pii_given phone: missing"),
    ],
)
def test_a_broken_file_says_where(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "details.yaml"
    path.write_text(text if text.startswith("- ") else "locales: [ko, en]\n" + text, encoding="utf-8")
    with pytest.raises(DetailsConfigError, match=problem.replace("(", r"\(").replace(")", r"\)")) as caught:
        DetailsExtractor.from_file(path)
    assert str(caught.value).startswith(str(path))


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(DetailsConfigError, match="cannot be read"):
        DetailsExtractor.from_file(tmp_path / "absent.yaml")
