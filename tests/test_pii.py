"""PII redaction: what gets redacted in Korean and English support chat, what is left alone, and the dev-set bar."""

from __future__ import annotations

import pytest

from benchmarks.pii_benchmark import SETS, evaluate_messages, load_messages
from deflect.conversation.pii import PiiLabel, PiiSpan, find_pii, redact


def labelled(text: str) -> list[tuple[str, str]]:
    return [(text[span.start : span.end], span.label) for span in find_pii(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # EMAIL
        ("영수증은 minji.kim@example.com으로 보내주세요.", [("minji.kim@example.com", "EMAIL")]),
        ("Please send the invoice to ap+kr@billing.example, thanks.", [("ap+kr@billing.example", "EMAIL")]),
        # PHONE: Korean mobile in every layout, landline, VoIP, international, US and UK
        ("연락처는 010-1234-5678입니다.", [("010-1234-5678", "PHONE")]),
        ("문자는 01012345678로 주세요.", [("01012345678", "PHONE")]),
        ("번호 010 1234 5678 / 010.9876.5432", [("010 1234 5678", "PHONE"), ("010.9876.5432", "PHONE")]),
        (
            "매장 02-123-4567, 창고 031-1234-5678, 사무실 070-1234-5678",
            [
                ("02-123-4567", "PHONE"),
                ("031-1234-5678", "PHONE"),
                ("070-1234-5678", "PHONE"),
            ],
        ),
        (
            "해외에서는 +82 10-1234-5678 또는 +82-2-123-4567로 걸어주세요.",
            [
                ("+82 10-1234-5678", "PHONE"),
                ("+82-2-123-4567", "PHONE"),
            ],
        ),
        (
            "Call me on +1 (415) 555-0123 or (212) 555-0187.",
            [
                ("+1 (415) 555-0123", "PHONE"),
                ("(212) 555-0187", "PHONE"),
            ],
        ),
        (
            "UK office +44 20 7946 0321, my mobile 07700 900123.",
            [
                ("+44 20 7946 0321", "PHONE"),
                ("07700 900123", "PHONE"),
            ],
        ),
        ("Got a scam text from 415-555-0199 asking for my OTP.", [("415-555-0199", "PHONE")]),
        # CARD: Luhn-valid 15-16 digits, plain or grouped
        ("카드번호 4111 1111 1111 1111 유효기간 12/28", [("4111 1111 1111 1111", "CARD")]),
        ("Charge my Mastercard 5555-5555-5555-4444 please.", [("5555-5555-5555-4444", "CARD")]),
        ("아멕스 3782 822463 10005 등록이 안 돼요.", [("3782 822463 10005", "CARD")]),
        (
            "Discover 6011111111111117 and JCB 3530 1113 3330 0000",
            [
                ("6011111111111117", "CARD"),
                ("3530 1113 3330 0000", "CARD"),
            ],
        ),
        # RRN: valid birth date and gender digit; bare 13 digits with the check digit or a cue
        ("주민번호 900101-1234568 보내드려요.", [("900101-1234568", "RRN")]),
        ("주민등록번호 9001011234568로 인증했어요.", [("9001011234568", "RRN")]),
        ("My resident registration number is 050505-3123456.", [("050505-3123456", "RRN")]),
        # ACCOUNT: Korean layouts with or without dashes, UK, US, IBAN
        ("환불은 국민은행 123456-01-234567로 부탁드려요.", [("123456-01-234567", "ACCOUNT")]),
        (
            "신한 110-123-456789 / 카카오뱅크 3333-01-1234567 / 농협 301-1234-5678-91",
            [
                ("110-123-456789", "ACCOUNT"),
                ("3333-01-1234567", "ACCOUNT"),
                ("301-1234-5678-91", "ACCOUNT"),
            ],
        ),
        ("토스뱅크 계좌 100012345678로 보내주세요.", [("100012345678", "ACCOUNT")]),
        ("우리 1002123456789로 보내주세요.", [("1002123456789", "ACCOUNT")]),
        ("Sort code 20-00-00, account number 12345678.", [("20-00-00", "ACCOUNT"), ("12345678", "ACCOUNT")]),
        ("Account 31926819, sort code: 404784.", [("31926819", "ACCOUNT"), ("404784", "ACCOUNT")]),
        ("Routing 021000021, account 1234567890.", [("021000021", "ACCOUNT"), ("1234567890", "ACCOUNT")]),
        (
            "IBAN GB82 WEST 1234 5698 7654 32 or DE89370400440532013000.",
            [
                ("GB82 WEST 1234 5698 7654 32", "ACCOUNT"),
                ("DE89370400440532013000", "ACCOUNT"),
            ],
        ),
        # IP
        ("제 IP는 203.0.113.7이고 공유기는 192.168.0.1이에요.", [("203.0.113.7", "IP"), ("192.168.0.1", "IP")]),
        ("The webhook comes from 2001:db8::8a2e:370:7334.", [("2001:db8::8a2e:370:7334", "IP")]),
    ],
)
def test_pii_is_found_in_korean_and_english(text: str, expected: list[tuple[str, str]]) -> None:
    assert labelled(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "주문번호 20261103-0012345 / ORD-20261103-4821 배송 언제 와요?",
        "Order 4111 1111 1111 1112 failed and order 1234-5678-9012-3456 too.",  # card-shaped, Luhn fails
        "CJ 송장 123456789012, 우체국 6071234567890, UPS 1Z999AA10123456784, USPS 9400 1000 0000 0000 0000 00",
        "CJ대한통운 5688-1234-5678 조회가 안 돼요.",  # tracking number in a bank-like 4-4-4 layout
        "고객센터 1588-1234, 1577-1234, 1544 1234, 1600-0000, 1899-1234, +82 1588-1234",
        "사업자등록번호 123-45-67890, 승인번호 12345678, 인증번호 123456",
        "Approval code 30012345 and verification code 482913.",
        "39,000원, ₩45,000, $49.99, £24.50, 연 3.5%, 2,500포인트, 270mm, 3개",
        "2026-11-03, 2026.11.03, 11월 3일, Nov 3, 14:30, 14:30:00",
        "갤럭시 SM-S928N, 헤드폰 WH-1000XM5, 노트북 16Z90S-GA5CK, 쿠폰 NEWYEAR-5000, 오류 0x80070005",
        "카드 ****-****-****-1234, 번호 010-****-5678, 끝자리 1234",
        "입금액 15000000원 보냈어요, 입금 확인번호 12345678",
        "My account ID 50462518 is locked.",
        "Update to app v1.2.3.4 did not help.",
        "주민번호 앞자리 900101만 알려드려요.",
        "카카오톡으로 6071234567890 번호가 왔어요. 우리 아이가 주문한 거 123456789012 언제 와요?",
    ],
)
def test_hard_negatives_are_left_alone(text: str) -> None:
    assert find_pii(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The forms an outside review found reaching storage: full-width digits, mixed separators, dashes other
        # than "-", a card right after "order"/"주문", a bare 13-digit RRN, names after a cue, street addresses.
        ("연락처 ０１０－２５０７－７６５０", [("０１０－２５０７－７６５０", "PHONE")]),
        ("번호 010-59630489로 주세요", [("010-59630489", "PHONE")]),
        ("기사님 번호 010 5921-1735예요", [("010 5921-1735", "PHONE")]),
        ("연락처는 010–3473–7308입니다.", [("010–3473–7308", "PHONE")]),
        ("주문 4111 1118 8142 8067 카드로 했어요", [("4111 1118 8142 8067", "CARD")]),
        ("order 4012888888881881 was charged twice", [("4012888888881881", "CARD")]),
        ("가입할 때 9203151234567 입력했어요", [("9203151234567", "RRN")]),
        ("받는 분은 이영희입니다", [("이영희", "NAME")]),
        ("예금주 최수진으로 환불해 주세요", [("최수진", "NAME")]),
        ("성함: 박민준", [("박민준", "NAME")]),
        ("my name is John Smith", [("John Smith", "NAME")]),
        ("주소는 서울특별시 마포구 월드컵북로 396 12층입니다", [("서울특별시 마포구 월드컵북로 396 12층", "ADDRESS")]),
        ("경기도 성남시 분당구 정자동 178-1로 보내주세요", [("경기도 성남시 분당구 정자동 178-1", "ADDRESS")]),
        ("Ship it to 221B Baker Street, Apt 4 please", [("221B Baker Street, Apt 4", "ADDRESS")]),
    ],
)
def test_forms_found_by_the_security_review_are_redacted(text: str, expected: list[tuple[str, str]]) -> None:
    assert labelled(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "이름 변경하고 싶어요",
        "받는 분 전화번호를 바꾸고 싶어요",
        "성함이 어떻게 되세요? 라고 물어봐서요",
        "이동 3번 출구 앞에 놔주세요",
        "택배로 3개 보냈어요",
        "테헤란로 가는 길에 있는 매장이요",
        "주문 20261204123456 취소해 주세요",
        "Product name: Galaxy Buds",
    ],
)
def test_cue_words_and_place_words_alone_are_not_names_or_addresses(text: str) -> None:
    assert find_pii(text) == []


def test_redact_replaces_each_value_with_its_label() -> None:
    text = (
        "메일 minji.kim@example.com, 휴대폰 010-1234-5678, 주문번호 20261103-0012345, 환불은 신한 110-123-456789로요."
    )
    assert redact(text) == "메일 [EMAIL], 휴대폰 [PHONE], 주문번호 20261103-0012345, 환불은 신한 [ACCOUNT]로요."
    assert redact("Card 4242 4242 4242 4242 from IP 198.51.100.23") == "Card [CARD] from IP [IP]"
    assert (
        redact("No personal data here, order ORD-20261103-4821.") == "No personal data here, order ORD-20261103-4821."
    )


def test_spans_are_sorted_non_overlapping_and_precedence_decides_overlaps() -> None:
    # The e-mail contains a mobile number and wins; an RRN-shaped run next to 계좌 is still an RRN with its cue.
    text = "01012345678@example.com 으로 주세요. 계좌 말고 주민번호 9001011234568요. 02-123-4567"
    spans = find_pii(text)
    assert spans == sorted(spans, key=lambda span: span.start)
    assert all(left.end <= right.start for left, right in zip(spans, spans[1:], strict=False))
    assert [span.label for span in spans] == [PiiLabel.EMAIL, PiiLabel.RRN, PiiLabel.PHONE]
    assert spans[0] == PiiSpan(0, 23, PiiLabel.EMAIL)


def test_phone_shaped_digits_after_a_refund_word_stay_a_phone() -> None:
    assert labelled("환불 관련해서 0212345678로 전화 주세요.") == [("0212345678", "PHONE")]


def test_dev_set_is_well_formed() -> None:
    messages = load_messages(SETS["dev"])
    for locale in ("ko", "en"):
        assert sum(m.locale == locale for m in messages) >= 100
        assert {s.label for m in messages if m.locale == locale for s in m.spans} == set(PiiLabel)
    for message in messages:
        assert list(message.spans) == sorted(message.spans, key=lambda span: span.start)
        for span in message.spans:
            value = message.text[span.start : span.end]
            assert value == value.strip() and value, message.id


def test_dev_set_recall_and_precision() -> None:
    messages = load_messages(SETS["dev"])
    report = evaluate_messages(messages)
    assert report["all"]["exact_recall"] >= 0.99, report["misses"]
    assert report["all"]["exact_precision"] >= 0.95, report["false_positives"]
    # The bar is real: a redactor that finds nothing, or finds the values but calls them all phones, falls below it.
    assert evaluate_messages(messages, finder=lambda text: [])["all"]["exact_recall"] == 0
    all_phones = evaluate_messages(
        messages, finder=lambda text: [PiiSpan(s.start, s.end, PiiLabel.PHONE) for s in find_pii(text)]
    )
    assert all_phones["all"]["exact_precision"] < 0.95


def test_every_form_in_the_dev_set_is_recalled() -> None:
    report = evaluate_messages(load_messages(SETS["dev"]))
    assert len(report["per_form"]) >= 10
    for form, scores in report["per_form"].items():
        assert scores["exact_recall"] >= 0.9, (form, scores)
    assert all(counts["false_positives"] == 0 for counts in report["per_negative_form"].values())
