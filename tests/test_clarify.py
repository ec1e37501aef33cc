"""Clarifying questions: when the bot asks instead of answering, the options it offers, what a customer's choice
does, and the labels choices leave behind — from the band chosen at training time to the API on the demo model."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from httpx import Response

from deflect.api.auth import Role
from deflect.conversation.policy import ConversationSignals, DecisionPolicy
from deflect.core.records import Article
from deflect.core.settings import Settings
from deflect.core.vocabulary import Decision, ReasonCode
from deflect.intent.model import ClarifyBand, IntentModel, IntentPrediction, clarify_options
from deflect.retrieval.index import ArticleHit, ArticleIndex
from deflect.store.events import EventStore
from deflect.store.reviewed import export_reviewed
from deflect.training.thresholds import choose_clarify_band
from tests.api_clients import api_clients

REFUND_ARTICLE = Article(
    "refund-timeline-ko", "환불 기간", "…", "ko", "https://help.example/ko/refund", "refund", ("refund_status",)
)
HITS = [ArticleHit(REFUND_ARTICLE, 0.8, "환불은 3영업일", "환불은 3영업일 안에 …")]
BAND = ClarifyBand(margin=0.2, floor=0.4, option_coverage=0.9, most_options=3)


def _policy(band: ClarifyBand | None = BAND) -> DecisionPolicy:
    return DecisionPolicy(answer_threshold=0.7, out_of_scope_threshold=0.0, clarify=band, clarify_turns=2)


def _prediction(*top: tuple[str, float]) -> IntentPrediction:
    return IntentPrediction(top[0][0], top[0][1], False, list(top), in_scope_score=1.0)


def test_a_confident_answer_whose_runner_up_is_close_becomes_a_question() -> None:
    outcome = _policy().decide(_prediction(("refund_status", 0.72), ("return_request", 0.6)), "환불 조회", HITS)

    assert outcome.decision is Decision.CLARIFY and outcome.reason_code is ReasonCode.AMBIGUOUS


def test_the_middle_band_asks_and_below_the_floor_only_suggests_articles() -> None:
    policy = _policy()

    unsure = policy.decide(_prediction(("refund_status", 0.55), ("return_request", 0.2)), "환불 조회", HITS)
    lost = policy.decide(_prediction(("refund_status", 0.3), ("return_request", 0.2)), "환불 조회", HITS)
    clear = policy.decide(_prediction(("refund_status", 0.9), ("return_request", 0.05)), "환불 조회", HITS)

    assert (unsure.decision, unsure.reason_code) == (Decision.CLARIFY, ReasonCode.LOW_CONFIDENCE)
    assert (lost.decision, lost.reason_code) == (Decision.SUGGEST_ARTICLES, ReasonCode.LOW_CONFIDENCE)
    assert (clear.decision, clear.reason_code) == (Decision.BOT_ANSWER, ReasonCode.CONFIDENT)


def test_after_the_questions_allowed_an_unclear_message_is_handed_off() -> None:
    prediction = _prediction(("refund_status", 0.55), ("return_request", 0.2))

    outcome = _policy().decide(prediction, "환불 조회", HITS, ConversationSignals(unclear_turns=2))

    assert (outcome.decision, outcome.reason_code) == (Decision.HANDOFF, ReasonCode.CLARIFY_FAILED)


def test_a_chosen_intent_is_answered_however_low_the_model_scored_it() -> None:
    prediction = _prediction(("refund_status", 0.31), ("return_request", 0.3))

    outcome = _policy().decide(prediction, "환불 조회", HITS, chosen=True)

    assert (outcome.decision, outcome.reason_code) == (Decision.BOT_ANSWER, ReasonCode.CHOSEN)


def test_without_a_band_the_policy_never_asks() -> None:
    outcome = _policy(None).decide(_prediction(("refund_status", 0.55), ("return_request", 0.2)), "환불 조회", HITS)

    assert outcome.decision is Decision.SUGGEST_ARTICLES


def test_options_hold_the_coverage_asked_for_with_at_least_two_and_at_most_three() -> None:
    assert clarify_options([("a", 0.95), ("b", 0.03), ("c", 0.01)], 0.9, 3) == ["a", "b"]
    assert clarify_options([("a", 0.5), ("b", 0.3), ("c", 0.15)], 0.9, 3) == ["a", "b", "c"]
    assert clarify_options([("a", 0.5), ("b", 0.45), ("c", 0.04)], 0.9, 3) == ["a", "b"]


def test_the_band_is_chosen_so_questions_offer_the_right_intent() -> None:
    """Synthetic validation predictions: clear ones (answered right), close calls between two intents (the top one
    right only half the time, but the right one always among the options), and hopeless ones (right intent in no
    option). The chosen band asks about the close calls and leaves the hopeless ones alone."""
    rng = np.random.default_rng(0)
    intents = ["a", "b", "c", "d"]
    rows, gold = [], []
    for _ in range(60):  # clear
        rows.append([0.9, 0.05, 0.03, 0.02])
        gold.append("a")
    for index in range(40):  # close calls between a and b
        rows.append([0.5 + rng.uniform(0, 0.04), 0.44, 0.04, 0.02])
        gold.append("a" if index % 2 else "b")
    for _ in range(20):  # hopeless: low confidence, the truth is d, offered last if at all
        rows.append([0.3, 0.28, 0.27, 0.15])
        gold.append("d")
    probabilities = np.array(rows)

    choice = choose_clarify_band(
        probabilities, intents, gold, np.ones(len(gold), bool), 0.85, 0.95, option_coverage=0.9, most_options=3
    )

    assert 0.3 < choice.floor <= 0.55
    assert choice.handled_share == pytest.approx(100 / 120)
    assert choice.handled_accuracy == 1.0


@pytest.fixture(scope="module")
def demo_band(demo_model: IntentModel) -> ClarifyBand:
    band = demo_model.clarify_band
    assert band is not None, "the demo model was trained with a clarify band"
    return band


def test_the_demo_artifact_stores_its_band_and_option_labels(demo_model: IntentModel, demo_band: ClarifyBand) -> None:
    assert 0.0 <= demo_band.margin <= 1.0 and 0.0 < demo_band.floor <= 1.01
    assert demo_model.manifest["clarify"]["objective"].startswith("ask where answering is right less than 95%")
    assert demo_model.option_label("refund_status", "ko") == "이미 보낸 반품·취소의 환불 진행 상황"
    assert demo_model.option_label("refund_status", "en") == "When the refund for my return or cancellation arrives"


# --- through the API ----------------------------------------------------------------------------------------------

ASKING = {"clarify_margin": 1.0, "clarify_floor": 0.0}  # every in-scope message with an article gets a question


@pytest.fixture()
def asking_clients(
    demo_model: IntentModel, demo_index: ArticleIndex, app_settings: Settings
) -> Iterator[dict[str, TestClient]]:
    settings = app_settings.model_copy(update=ASKING)
    with api_clients(settings, demo_model, demo_index, widget=Role.WIDGET) as running:
        yield running


def _ask(client: TestClient, text: str) -> dict:
    response = client.post("/v1/suggest", json={"text": text})
    assert response.status_code == 200, response.text
    return response.json()


def _choose(client: TestClient, question: dict, **choice: str) -> Response:
    """The customer's pick among `question`'s options, sent as the conversation's next message."""
    return client.post(
        "/v1/suggest",
        json={
            "conversation_id": question["conversation_id"],
            "conversation_token": question["conversation_token"],
            "choice": {"suggestion_id": question["suggestion_id"], **choice},
        },
    )


def _answer(client: TestClient, question: dict, **choice: str) -> dict:
    response = _choose(client, question, **choice)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_question_in_korean_offers_intents_in_customer_words_then_a_choice_is_answered(
    asking_clients: dict[str, TestClient], app_settings: Settings, tmp_path: Path
) -> None:
    widget = asking_clients["widget"]

    question = _ask(widget, "반품 보냈는데 돈이 안 들어왔어요")

    assert question["decision"] == "clarify" and question["reason_code"] in {"ambiguous", "low_confidence"}
    clarification = question["clarification"]
    assert clarification["step"] == "choose" and clarification["question"] == "어떤 내용을 도와드릴까요?"
    kinds = [option["kind"] for option in clarification["options"]]
    assert kinds[-2:] == ["something_else", "person"] and 2 <= kinds.count("intent") <= 3
    offered = [option for option in clarification["options"] if option["kind"] == "intent"]
    assert "refund_status" in [option["intent"] for option in offered]
    assert all(option["label"] and option["label"] != option["intent"] for option in offered)
    assert question["articles"] == []

    answer = _answer(widget, question, intent="refund_status")

    assert answer["decision"] == "bot_answer" and answer["reason_code"] == "chosen"
    assert answer["intent"]["intent"] == "refund_status" and answer["answer"] is not None
    assert answer["conversation_id"] == question["conversation_id"]
    assert "refund_status" in widget.app.state.service.suggester.index.articles[answer["answer"]["article_id"]].intents

    store = EventStore.open(app_settings.database_url)
    try:
        summary = export_reviewed(store, tmp_path / "with")
        without = export_reviewed(store, tmp_path / "without", customer_choices=False)
    finally:
        store.close()
    rows = list(csv.DictReader((tmp_path / "with" / "reviewed.csv").open(encoding="utf-8")))
    assert summary.actions == {"customer_choice": 1} and without.rows == 0
    assert rows[0]["text"] == "반품 보냈는데 돈이 안 들어왔어요" and rows[0]["label"] == "refund_status"
    assert rows[0]["reviewer"] == "customer" and rows[0]["suggestion_id"] == question["suggestion_id"]


def test_something_else_asks_to_rephrase_and_a_further_unclear_turn_hands_off(
    asking_clients: dict[str, TestClient],
) -> None:
    widget = asking_clients["widget"]
    question = _ask(widget, "I returned it but no money yet")
    assert question["clarification"]["question"] == "Which of these do you mean?"

    rephrase = _answer(widget, question, kind="something_else")

    assert rephrase["decision"] == "clarify" and rephrase["reason_code"] == "not_among_options"
    assert rephrase["clarification"]["step"] == "rephrase"
    assert [option["kind"] for option in rephrase["clarification"]["options"]] == ["person"]
    handed = widget.post(
        "/v1/suggest",
        json={
            "text": "I sent the item back and the refund hasn't arrived",
            "conversation_id": question["conversation_id"],
            "conversation_token": rephrase["conversation_token"],
        },
    ).json()

    assert handed["decision"] == "handoff" and handed["reason_code"] == "clarify_failed"
    assert handed["handoff"]["team"]


def test_choosing_a_person_hands_off_and_the_transcript_shows_the_question(
    asking_clients: dict[str, TestClient],
) -> None:
    widget = asking_clients["widget"]
    question = _ask(widget, "쿠폰이랑 포인트 같이 쓸 수 있어요?")

    handed = _answer(widget, question, kind="person")
    package = widget.get(
        f"/v1/conversations/{question['conversation_id']}/handoff",
        headers={"X-Conversation-Token": handed["conversation_token"]},
    )

    assert handed["decision"] == "handoff" and handed["reason_code"] == "person_requested"
    assert package.status_code == 200, package.text
    bot_turns = [turn["text"] for turn in package.json()["transcript"] if turn["role"] == "bot"]
    assert any(turn.startswith("어떤 내용을 도와드릴까요?") and "상담원과 이야기할게요" in turn for turn in bot_turns)


@pytest.mark.parametrize(
    ("choice", "problem"),
    [
        ({"intent": "account_delete"}, "was not among the options"),
        ({"suggestion_id": "s-0000000000000000", "intent": "refund_status"}, "not part of this conversation"),
    ],
)
def test_a_choice_that_answers_no_question_is_a_422(
    asking_clients: dict[str, TestClient], choice: dict, problem: str
) -> None:
    widget = asking_clients["widget"]
    question = _ask(widget, "반품 보냈는데 돈이 안 들어왔어요")

    response = _choose(widget, question, **choice)

    assert response.status_code == 422 and problem in response.text


def test_a_choice_needs_its_conversation_and_kind_intent_needs_the_intent(
    asking_clients: dict[str, TestClient],
) -> None:
    widget = asking_clients["widget"]

    no_conversation = widget.post("/v1/suggest", json={"choice": {"suggestion_id": "s-1", "intent": "a"}})
    no_intent = widget.post(
        "/v1/suggest", json={"conversation_id": "c-1", "choice": {"suggestion_id": "s-1", "kind": "intent"}}
    )

    assert no_conversation.status_code == 422 and "conversation_id" in no_conversation.text
    assert no_intent.status_code == 422 and "needs the intent" in no_intent.text
