"""Conversation signals for the handoff policy: frustration and explicit requests for a person, Korean and English."""

from __future__ import annotations

import pytest

from benchmarks.frustration_benchmark import FRUSTRATION, evaluate, read_messages
from deflect.conversation.signals import FrustrationDetector, PersonRequest, asks_for_person

detector = FrustrationDetector()


@pytest.mark.parametrize(
    ("text", "locale", "cue"),
    [
        ("아 진짜 짜증나네 벌써 세 번째 문의예요", "ko", "profanity"),
        ("짜증 나 죽겠네 배송 조회도 안 되고", "ko", "profanity"),
        ("몇 번을 말해야 알아들어요?", "ko", "repeated contact"),
        ("환불 신청한 지 일주일째인데 아직도 안 들어왔어요", "ko", "waiting"),
        ("계속 이러시면 소비자원에 신고하겠습니다", "ko", "threat"),
        ("도대체 언제 보내주실 건데요", "ko", "'도대체'"),
        ("지금 장난하냐? 쿠폰이 왜 안 돼", "ko", "'장난하냐'"),
        ("결제 두 번 됐는데 연락도 없네요 ㅡㅡ", "ko", "ㅡㅡ"),
        ("답변 정말 고맙네요 참", "ko", "sarcasm"),
        ("This is RIDICULOUS, where is my refund", "en", "anger"),
        ("wtf why was I charged twice", "en", "profanity"),
        ("Third time contacting you about the same charge.", "en", "repeated contact"),
        ("I still haven't received my card.", "en", "waiting"),
        ("Fix it today or I'm filing a chargeback.", "en", "threat"),
        ("Thanks for nothing.", "en", "sarcasm"),
        ("WHERE IS MY PACKAGE", "en", "ALL CAPS"),
        ("Where is my order??? It was due Monday", "en", "'??'"),
    ],
)
def test_frustrated_messages_are_flagged_with_the_cue_that_fired(text: str, locale: str, cue: str) -> None:
    signal = detector.detect(text, locale)

    assert signal.frustrated
    assert cue in signal.cues
    assert 0.0 < signal.score <= 1.0


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("안녕하세요 배송 조회는 어디서 하나요?", "ko"),
        ("결제가 두 번 된 것 같은데 확인 부탁드려요", "ko"),  # a problem, calmly reported
        ("급한 건인데 오늘 중으로 송금 가능할까요?", "ko"),  # polite urgency
        ("와 벌써 도착했어요!!! 완전 빠르네요 감사합니다", "ko"),  # excitement
        ("와 진짜 미쳤다 이 가격에 이 퀄리티라니 ㅋㅋㅋ", "ko"),
        ("너무 슬퍼요 ㅠㅠ 기다리던 한정판이 품절이네요", "ko"),  # sad, not angry
        ("대체 상품으로 보내주셔도 괜찮아요", "ko"),  # 대체 as "substitute", not "what on earth"
        ("KB카드 등록이 안 되는데 방법 있을까요?", "ko"),  # capitals in Korean are brand names
        ("I think I was charged twice for order #4821, could you check?", "en"),
        ("It's urgent, someone may have access to my account. Please lock it.", "en"),
        ("This is AMAZING!!! Best purchase ever", "en"),
        ("I'm sad the limited edition sold out :(", "en"),
        ("Thank you!! You guys are the best", "en"),
        ("Could you explain the chargeback process?", "en"),
        ("My transfer still shows pending after 2 hours, is that normal?", "en"),
    ],
)
def test_calm_messages_and_hard_negatives_are_not_flagged(text: str, locale: str) -> None:
    assert not detector.detect(text, locale).frustrated


def test_thanks_and_excitement_lower_the_score() -> None:
    angry = detector.detect("배송이 또 늦네요 ㅡㅡ", "ko")
    thankful = detector.detect("배송이 또 늦네요 ㅡㅡ 그래도 답변 감사합니다", "ko")

    assert thankful.score < angry.score
    assert thankful.cues == angry.cues == ("'또/자꾸'", "ㅡㅡ")


def test_threshold_decides_and_locale_is_optional() -> None:
    text = "Where is my order?? It was due Monday"

    assert FrustrationDetector(threshold=0.3).detect(text).frustrated
    assert not FrustrationDetector(threshold=0.9).detect(text).frustrated
    assert detector.detect("", None) == detector.detect("", "en")


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("상담원 연결해 주세요", "상담원 연결"),
        ("사람이랑 얘기하고 싶어요", "사람이랑 얘기"),
        ("상담원 좀 불러주세요", "상담원 좀 불러"),
        ("직원 바꿔주세요", "직원 바꿔"),
        ("상담원", "상담원"),
        ("Can I talk to a human?", "talk to a human"),
        ("I want a real person", "real person"),
        ("agent please", "agent please"),
        ("Please connect me to a customer service representative", "connect me to a customer service representative"),
        ("customer service representative", "customer service representative"),
    ],
)
def test_explicit_requests_for_a_person(text: str, phrase: str) -> None:
    request = asks_for_person(text)

    assert request is not None
    assert phrase in request.phrase


@pytest.mark.parametrize(
    "text",
    [
        "Is your agent a bot?",
        "Is your agent a bot or a real person?",
        "Am I talking to a real person?",
        "The delivery agent left the parcel with my neighbour.",
        "배송기사님이 전화를 안 받아요",
        "상담원이 사람이에요?",
        "상담원이랑 얘기하고 있는데 같은 말만 반복하시네요",  # already talking to one
        "직원분이랑 통화했는데 해결이 안 됐어요",
        "모르는 사람한테 연락이 왔어요",
        "Where is my order?",
    ],
)
def test_questions_about_agents_and_other_people_are_not_requests(text: str) -> None:
    assert asks_for_person(text) is None


def test_a_request_and_a_question_in_one_message_is_a_request() -> None:
    assert asks_for_person("Are you a bot? I want to talk to a human.") == PersonRequest("talk to a human")


@pytest.mark.parametrize("locale", ["ko", "en"])
def test_detector_reaches_0_8_f1_on_the_development_set(locale: str) -> None:
    metrics = evaluate(detector, read_messages(FRUSTRATION / "dev.csv"))

    assert metrics[locale]["messages"] == 130
    assert metrics[locale]["f1"] >= 0.8, metrics[locale]
