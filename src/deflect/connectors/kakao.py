"""KakaoTalk channel through a Kakao i Open Builder skill (skill response format 2.0): the skill request Kakao POSTs
for each user utterance becomes a customer message of the conversation `kakao-<user id>`, and Deflect's decision
becomes a skill response in Kakao's conventions —

- bot answer: `simpleText` with the answer, and the article as a card with a web-link button;
- articles: a `simpleText` lead-in and a `listCard` of up to five articles (a `textCard` for one), each a web link;
- clarify: the question as `simpleText`, its options as `quickReplies` whose `extra` carries the choice back;
- handoff: a `simpleText` saying a person will take over, and the "상담원 연결" quick reply sends the customer to
  the block that connects a person (`DEFLECT_KAKAO_HANDOFF_BLOCK_ID`, where the channel's 상담 연결 plugin sits).

Kakao's limits are kept: at most 3 outputs and 10 quick replies, 1,000 characters of simple text, 14 of a label,
5 list items and 2 list buttons."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from deflect.conversation.clarify import Choice
from deflect.conversation.results import ArticleCard, CustomerMessage, Suggestion
from deflect.core.vocabulary import Decision, OptionKind

MAX_OUTPUTS = 3
MAX_QUICK_REPLIES = 10
MAX_SIMPLE_TEXT = 1000
MAX_LABEL = 14
MAX_LIST_ITEMS = 5
MAX_CARD_TITLE = 50
MAX_CARD_DESCRIPTION = 230
HANDOFF_LABEL = {"ko": "상담원 연결", "en": "Talk to an agent"}
CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,120}$")

TEXTS = {
    "ko": {
        "articles": "이 도움말에 답이 있을 거예요.",
        "article_button": "도움말 보기",
        "list_header": "도움이 될 만한 도움말",
        "handoff": "상담원에게 연결해 드릴게요. 아래 '상담원 연결'을 눌러 주세요.",
        "handoff_no_block": "상담원에게 전달했어요. 곧 이어서 도와드릴게요.",
        "unavailable": "지금은 답을 드리기 어려워요. 잠시 후 다시 보내 주시거나 '상담원 연결'을 눌러 주세요.",
    },
    "en": {
        "articles": "These articles should answer it.",
        "article_button": "Read article",
        "list_header": "Articles that may help",
        "handoff": "I'll connect you with an agent. Tap 'Talk to an agent' below.",
        "handoff_no_block": "I've passed this to an agent, who will pick it up shortly.",
        "unavailable": "I can't answer right now. Please send it again shortly, or tap 'Talk to an agent'.",
    },
}


class KakaoUser(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1, max_length=200, description="The botUserKey: one per user and bot")
    type: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)


class KakaoUserRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    utterance: str = Field(max_length=2000)
    user: KakaoUser
    lang: str | None = None
    timezone: str | None = None


class KakaoAction(BaseModel):
    model_config = ConfigDict(extra="allow")
    clientExtra: dict[str, Any] | None = None  # noqa: N815 — Kakao's name: the `extra` of the quick reply tapped


class SkillRequest(BaseModel):
    """What Kakao POSTs to a skill server; fields Deflect does not read (intent, bot, contexts, flow) are allowed."""

    model_config = ConfigDict(extra="allow")
    userRequest: KakaoUserRequest  # noqa: N815 — Kakao's field name
    action: KakaoAction | None = None


def conversation_id(user_id: str) -> str:
    """The Kakao user's conversation: `kakao-<botUserKey>`, or a hash of it when it holds characters an id may not."""
    if CONVERSATION_ID.match(user_id):
        return f"kakao-{user_id}"
    return f"kakao-h{hashlib.sha256(user_id.encode()).hexdigest()[:32]}"


def customer_message(request: SkillRequest) -> CustomerMessage:
    """The customer message a skill request carries; a tapped clarify option comes back as its choice."""
    user_request = request.userRequest
    extra = (request.action.clientExtra if request.action else None) or {}
    chosen = extra.get("deflect_choice")
    choice = None
    if isinstance(chosen, dict) and isinstance(chosen.get("suggestion_id"), str):
        try:
            kind = OptionKind(chosen.get("kind", OptionKind.INTENT.value))
        except ValueError:
            kind = OptionKind.INTENT
        intent = chosen.get("intent") if isinstance(chosen.get("intent"), str) else None
        choice = Choice(chosen["suggestion_id"], kind, intent)
    return CustomerMessage(
        text=user_request.utterance,
        conversation_id=conversation_id(user_request.user.id),
        customer_id=conversation_id(user_request.user.id),
        channel="kakao",
        choice=choice,
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _texts(locale: str) -> dict[str, str]:
    return TEXTS.get(locale, TEXTS["ko"])


def _simple_text(text: str) -> dict[str, Any]:
    return {"simpleText": {"text": _clip(text, MAX_SIMPLE_TEXT)}}


def _web_button(label: str, url: str) -> dict[str, Any]:
    return {"label": _clip(label, MAX_LABEL), "action": "webLink", "webLinkUrl": url}


def _articles_card(articles: list[ArticleCard], locale: str) -> dict[str, Any]:
    """One article: a text card with a web-link button; two or more: a list card of up to five."""
    texts = _texts(locale)
    if len(articles) == 1:
        article = articles[0]
        return {
            "textCard": {
                "title": _clip(article.title, MAX_CARD_TITLE),
                "description": _clip(article.snippet, MAX_CARD_DESCRIPTION),
                "buttons": [_web_button(texts["article_button"], article.url)],
            }
        }
    items = [
        {"title": _clip(a.title, MAX_CARD_TITLE), "description": _clip(a.snippet, 60), "link": {"web": a.url}}
        for a in articles[:MAX_LIST_ITEMS]
    ]
    return {"listCard": {"header": {"title": texts["list_header"]}, "items": items}}


def handoff_reply(locale: str, handoff_block_id: str | None) -> dict[str, Any]:
    """The quick reply that reaches a person: to the channel's handoff block when there is one, else a message
    Deflect reads as a request for a person."""
    label = HANDOFF_LABEL.get(locale, HANDOFF_LABEL["ko"])
    if handoff_block_id:
        return {"label": label, "action": "block", "blockId": handoff_block_id, "messageText": label}
    return {"label": label, "action": "message", "messageText": label}


def _response(outputs: list[dict[str, Any]], quick_replies: list[dict[str, Any]]) -> dict[str, Any]:
    template: dict[str, Any] = {"outputs": outputs[:MAX_OUTPUTS]}
    if quick_replies:
        template["quickReplies"] = quick_replies[:MAX_QUICK_REPLIES]
    return {"version": "2.0", "template": template}


def skill_response(suggestion: Suggestion, handoff_block_id: str | None = None) -> dict[str, Any]:
    """Deflect's decision as a Kakao skill response."""
    locale, texts = suggestion.locale, _texts(suggestion.locale)
    to_person = handoff_reply(locale, handoff_block_id)
    if suggestion.decision is Decision.BOT_ANSWER and suggestion.answer is not None:
        answered = [a for a in suggestion.articles if a.id == suggestion.answer.article_id][:1]
        outputs = [_simple_text(suggestion.answer.text)] + ([_articles_card(answered, locale)] if answered else [])
        return _response(outputs, [to_person])
    if suggestion.decision is Decision.CLARIFY and suggestion.clarification is not None:
        options = []
        for option in suggestion.clarification.options:
            if option.kind is OptionKind.PERSON:
                options.append(to_person)
                continue
            chosen = {"suggestion_id": suggestion.suggestion_id, "kind": option.kind.value, "intent": option.intent}
            options.append(
                {
                    "label": _clip(option.label, MAX_LABEL),
                    "action": "message",
                    "messageText": option.label,
                    "extra": {"deflect_choice": chosen},
                }
            )
        if to_person not in options:
            options.append(to_person)
        return _response([_simple_text(suggestion.clarification.question)], options)
    if suggestion.decision is Decision.HANDOFF:
        text = texts["handoff"] if handoff_block_id else texts["handoff_no_block"]
        return _response([_simple_text(text)], [to_person] if handoff_block_id else [])
    if suggestion.articles:
        return _response([_simple_text(texts["articles"]), _articles_card(suggestion.articles, locale)], [to_person])
    return _response([_simple_text(texts["handoff_no_block"])], [to_person])


def unavailable_response(handoff_block_id: str | None = None, locale: str = "ko") -> dict[str, Any]:
    """What the customer sees when no answer could be made in time (or the event store is down): an apology and
    the way to a person, in the skill format Kakao expects — never an error bubble."""
    return _response([_simple_text(_texts(locale)["unavailable"])], [handoff_reply(locale, handoff_block_id)])
