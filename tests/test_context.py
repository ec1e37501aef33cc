"""Follow-ups in context: a message after the first is read with the previous turn and the intent the conversation
settled on, through a gate fitted on labelled conversations; a typed reply to a clarifying question is mapped to the
option it names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from benchmarks.paths import CONVERSATIONS
from deflect.api.auth import Role
from deflect.conversation.access import LOCAL_CALLER
from deflect.conversation.answers import AnswerTemplates
from deflect.conversation.clarify import Choice
from deflect.conversation.follow_up import settled_intent, typed_choice
from deflect.conversation.policy import DecisionPolicy
from deflect.conversation.results import CustomerMessage
from deflect.conversation.routing import HandoffRouter
from deflect.conversation.service import SuggestService
from deflect.conversation.state import Conversation, MemoryConversationStore, SuggestionEvent
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.core.vocabulary import Decision, OptionKind, ReasonCode
from deflect.ingest.conversations import LabelledConversation, LabelledTurn, evaluation_set
from deflect.intent.context import CONTEXT_FEATURES
from deflect.intent.model import IntentModel, IntentPrediction
from deflect.retrieval.index import ArticleIndex
from deflect.training.context_gate import ContextGateError, fit_context_gate
from tests.api_clients import api_clients
from tests.test_clarify import HITS


def _question(*intents: str) -> SuggestionEvent:
    options = [{"kind": "intent", "label": intent, "intent": intent, "article_id": None} for intent in intents]
    options += [{"kind": "something_else", "label": "다른 문의예요"}, {"kind": "person", "label": "상담원"}]
    return SuggestionEvent(
        suggestion_id="s-question",
        text="반품 보냈는데 돈이 안 들어왔어요",
        locale="ko",
        intent=intents[0],
        intent_name=intents[0],
        confidence=0.5,
        out_of_scope=False,
        alternatives=[(intent, 0.4) for intent in intents],
        articles=[],
        decision=Decision.CLARIFY.value,
        reason_code=ReasonCode.AMBIGUOUS.value,
        reason="",
        frustration_score=0.0,
        frustration_cues=[],
        clarification={"step": "choose", "question": "어떤 내용을 도와드릴까요?", "options": options},
    )


QUESTION = _question("refund_status", "return_request", "exchange_request")
UNSURE_READING = IntentPrediction("business_hours", 0.2, True, [("business_hours", 0.2)], in_scope_score=-1.0)
THRESHOLD = 0.7  # the answer threshold a typed reply is read at


@pytest.mark.parametrize(
    ("reply", "intent"),
    [
        ("두 번째요", "return_request"),
        ("2번이요", "return_request"),
        ("첫번째", "refund_status"),
        ("마지막 거요", "exchange_request"),
        ("the second one", "return_request"),
        ("Option 3 please", "exchange_request"),
        ("last one", "exchange_request"),
    ],
)
def test_a_typed_position_picks_that_option(reply: str, intent: str) -> None:
    assert typed_choice(reply, QUESTION, UNSURE_READING, THRESHOLD) == Choice("s-question", OptionKind.INTENT, intent)


@pytest.mark.parametrize("reply", ["다른 거요", "둘 다 아니에요", "none of these", "Something else"])
def test_none_of_these_in_words_is_something_else(reply: str) -> None:
    assert typed_choice(reply, QUESTION, UNSURE_READING, THRESHOLD) == Choice("s-question", OptionKind.SOMETHING_ELSE)


def test_a_reply_that_names_an_offered_intent_picks_it_and_others_pick_nothing() -> None:
    refund = IntentPrediction("refund_status", 0.8, False, [("refund_status", 0.8)], in_scope_score=1.0)
    fee = IntentPrediction("shipping_fee", 0.8, False, [("shipping_fee", 0.8)], in_scope_score=1.0)

    hesitant = IntentPrediction("return_request", 0.5, False, [("return_request", 0.5)], in_scope_score=1.0)
    threshold = THRESHOLD
    refund_chosen = Choice("s-question", OptionKind.INTENT, "refund_status")

    assert typed_choice("환불이요", QUESTION, refund, threshold) == refund_chosen
    assert typed_choice("배송비는 얼마예요?", QUESTION, fee, threshold) is None
    # an offered intent read below the answer threshold: the reply is read in context like any other message
    assert typed_choice("사진도 없어요", QUESTION, hesitant, threshold) is None
    # "이거요" (this one) and an order placed twice are not positions
    assert typed_choice("이거요", QUESTION, UNSURE_READING, threshold) is None
    assert typed_choice("2번 주문했는데 하나만 왔어요", QUESTION, UNSURE_READING, threshold) is None
    # a position the question did not offer
    assert typed_choice("세 번째요", _question("refund_status", "return_request"), UNSURE_READING, threshold) is None


def test_the_settled_intent_is_certain_once_answered_and_the_reading_otherwise() -> None:
    question = QUESTION
    answered = SuggestionEvent(**{**question.__dict__, "decision": "bot_answer", "clarification": None})
    out_of_scope = SuggestionEvent(**{**question.__dict__, "decision": "suggest_articles", "out_of_scope": True})

    assert settled_intent(None) is None
    assert settled_intent(Conversation("c", [answered])).intents == {"refund_status": 1.0}  # type: ignore[union-attr]
    unsure = settled_intent(Conversation("c", [question]))
    assert unsure is not None and set(unsure.intents) == {"refund_status", "return_request", "exchange_request"}
    assert unsure.previous_text == "반품 보냈는데 돈이 안 들어왔어요"
    assert settled_intent(Conversation("c", [out_of_scope])) is None


# --- the gate, fitted at training time ---------------------------------------------------------------------------


def test_the_demo_artifact_carries_a_gate_fitted_on_the_validation_conversations(demo_model: IntentModel) -> None:
    section = demo_model.manifest["context"]

    assert demo_model.context_gate is not None
    assert list(section["weights"]) == list(CONTEXT_FEATURES)
    assert section["conversations"] >= 100
    assert section["cross_validated_accuracy_in_context"] > section["accuracy_alone"] + 0.2
    # readings in context are answered from their own threshold, and far fewer answers are wrong than alone
    assert 0.0 < section["answer_threshold"] <= 1.0
    assert section["answered_wrong_in_context"] <= 0.05 < section["answered_wrong_alone"]


def test_a_reading_in_context_below_its_own_threshold_is_not_answered() -> None:
    policy = DecisionPolicy(answer_threshold=0.7, out_of_scope_threshold=0.0)
    top = [("refund_status", 0.8), ("return_request", 0.1)]
    alone = IntentPrediction("refund_status", 0.8, False, top, in_scope_score=1.0)
    in_context = IntentPrediction("refund_status", 0.8, False, top, in_scope_score=1.0, answer_threshold=0.9)

    assert policy.decide(alone, "환불 조회", HITS).decision is Decision.BOT_ANSWER
    outcome = policy.decide(in_context, "환불 조회", HITS)
    assert (outcome.decision, outcome.reason_code) == (Decision.SUGGEST_ARTICLES, ReasonCode.LOW_CONFIDENCE)


def test_the_gate_never_reads_the_test_conversations(demo_model: IntentModel) -> None:
    conversations, _ = evaluation_set(CONVERSATIONS, frozenset(demo_model.intents), split="test")

    with pytest.raises(ContextGateError, match="0 follow-up turns"):
        fit_context_gate(demo_model, conversations, "test split")


def test_a_gate_needs_turns_that_continue_and_turns_that_do_not(demo_model: IntentModel) -> None:
    turns = (LabelledTurn("배송 언제 와요?", "delivery_status", "opening", False),)
    same = [
        LabelledConversation(
            f"c{i}", "ko", "validation", turns + (LabelledTurn("언제쯤요?", "delivery_status", "follow_up", True),)
        )
        for i in range(25)
    ]

    with pytest.raises(ContextGateError, match="continue the previous intent and turns that do not"):
        fit_context_gate(demo_model, same, "one kind of turn")


# --- through the API ----------------------------------------------------------------------------------------------


@pytest.fixture()
def clients(
    demo_model: IntentModel, demo_index: ArticleIndex, app_settings: Settings
) -> Iterator[dict[str, TestClient]]:
    with api_clients(app_settings, demo_model, demo_index, widget=Role.WIDGET) as running:
        yield running


def _send(client: TestClient, text: str, previous: dict | None = None) -> dict:
    body: dict = {"text": text}
    if previous is not None:
        body |= {"conversation_id": previous["conversation_id"], "conversation_token": previous["conversation_token"]}
    response = client.post("/v1/suggest", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_detail_given_after_a_question_keeps_the_question_s_intent(
    clients: dict[str, TestClient], demo_model: IntentModel
) -> None:
    widget = clients["widget"]
    first = _send(widget, "배송 언제 와요?")

    detail = _send(widget, "주문번호는 20261103-0012345예요", first)

    alone = demo_model.predict(["주문번호는 20261103-0012345예요"])[0]
    assert first["intent"]["intent"] == "delivery_status"
    assert detail["intent"]["intent"] == "delivery_status" and not detail["out_of_scope"]
    assert alone.out_of_scope or alone.intent != "delivery_status" or alone.confidence < 0.5


def test_a_correction_is_not_answered_as_what_it_corrects_and_a_marked_new_question_is_read_as_it_says(
    clients: dict[str, TestClient],
) -> None:
    widget = clients["widget"]
    returning = _send(widget, "I want to return a jacket")
    corrected = _send(widget, "actually I already sent it back, when do I get my money", returning)
    coupon = _send(widget, "쿠폰 어떻게 써요?")
    hours = _send(widget, "근데 영업시간이 어떻게 돼요?", coupon)

    assert returning["decision"] == "bot_answer" and returning["intent"]["intent"] == "return_request"
    # the conversation says return, the message says refund: not answered as the return again, the refund shown
    assert (corrected["decision"], corrected["intent"]["intent"]) != ("bot_answer", "return_request")
    assert "refund-timeline-en" in [article["id"] for article in corrected["articles"]] or corrected["clarification"]
    assert coupon["intent"]["intent"] == "coupon_usage" and hours["intent"]["intent"] == "business_hours"


def test_a_follow_up_is_read_against_the_vector_its_conversation_kept(
    demo_model: IntentModel, demo_index: ArticleIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings()
    store = MemoryConversationStore(ttl_seconds=3600)
    service = SuggestService(
        Suggester(demo_model, demo_index, settings),
        store,
        AnswerTemplates.load(settings.answers_file, settings.answers_overrides_file),
        HandoffRouter.load(settings.routing_file),
        settings,
    )
    encoded: list[str] = []
    encode = demo_model.encode
    monkeypatch.setattr(demo_model, "encode", lambda texts, **kw: (encoded.extend(texts), encode(texts, **kw))[1])

    def send(conversation: str, text: str) -> SuggestionEvent:
        service.suggest(CustomerMessage(text=text, locale="ko", conversation_id=conversation), LOCAL_CALLER)
        kept = store.get(conversation)
        assert kept is not None
        return kept.suggestions[-1]

    plain = send("plain", "배송 언제 와요?")
    send("plain", "그거요")
    with_phone = send("phone", "010-2345-6789로 연락 주세요 배송 언제 와요?")
    send("phone", "언제쯤요?")

    vector = plain.sentence_vector
    assert vector is not None and vector.shape == (len(encode(["배송"])[0]),)
    # a message that held PII keeps no vector: the next turn encodes its redacted text instead
    assert with_phone.vector is None and "010-2345-6789" not in with_phone.text
    phone_message = "010-2345-6789로 연락 주세요 배송 언제 와요?"
    assert encoded == ["배송 언제 와요?", "그거요", phone_message, "언제쯤요?", with_phone.text]


ASKING = {"clarify_margin": 1.0, "clarify_floor": 0.0}  # every in-scope message with an article gets a question


def test_a_typed_reply_to_a_question_is_the_option_it_names(
    demo_model: IntentModel, demo_index: ArticleIndex, app_settings: Settings
) -> None:
    with api_clients(app_settings.model_copy(update=ASKING), demo_model, demo_index, widget=Role.WIDGET) as running:
        widget = running["widget"]
        question = _send(widget, "반품 보냈는데 돈이 안 들어왔어요")
        offered = [o["intent"] for o in question["clarification"]["options"] if o["kind"] == "intent"]

        second = _send(widget, "두 번째요", question)

    assert question["decision"] == "clarify" and len(offered) >= 2
    assert second["reason_code"] == "chosen" and second["intent"]["intent"] == offered[1]
    assert second["decision"] == "bot_answer"


def test_without_context_every_message_is_read_alone(
    demo_model: IntentModel, demo_index: ArticleIndex, app_settings: Settings
) -> None:
    settings = app_settings.model_copy(update={**ASKING, "context": False})
    with api_clients(settings, demo_model, demo_index, widget=Role.WIDGET) as running:
        widget = running["widget"]
        question = _send(widget, "반품 보냈는데 돈이 안 들어왔어요")
        typed = _send(widget, "두 번째요", question)

    assert typed["reason_code"] != "chosen"
