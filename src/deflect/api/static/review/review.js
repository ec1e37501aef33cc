/*
 * Deflect review page: the queue, an item with its conversation, analytics and unmet needs, in Korean and English.
 * It also runs the sign-in page (body[data-page="login"]).
 *
 * Plain JavaScript, no build step and nothing from the internet. It talks only to /review/api on its own origin
 * with the session cookie (HttpOnly; the page never sees or keeps the API key). State-changing requests carry the
 * `x-deflect-review: 1` header the API asks of cookie sessions. Customer text is untrusted: every piece of data
 * reaches the page through textContent or attributes, never as HTML.
 *
 * Views are hash routes: #/queue?status=open&reason=…&page=N, #/item/ID, #/analytics, #/unmet.
 */
(() => {
  "use strict";

  const API = "/review/api";
  const LANGUAGE_KEY = "deflect.review.lang";
  const REQUEST_TIMEOUT_MS = 20000;
  const PAGE_SIZE = 50;
  const SEARCH_DELAY_MS = 300;
  const TOAST_MS = 6000;
  const G_PREFIX_MS = 1500;
  const INTENT_NAME = /^[a-z][a-z0-9_]{1,63}$/;
  const OUT_OF_SCOPE = "out_of_scope";
  const SVG_NS = "http://www.w3.org/2000/svg";

  // ---- strings ------------------------------------------------------------------------------------------------

  const STRINGS = {
    en: {
      "app.title": "Deflect review",
      "skip": "Skip to content",
      "lang.other": "한국어",
      "lang.otherLabel": "한국어로 보기 (Korean)",
      "nav.label": "Views",
      "nav.queue": "Queue",
      "nav.analytics": "Analytics",
      "nav.unmet": "Unmet needs",
      "account.signOut": "Sign out",
      "account.signedIn": "Signed in as {name}",
      "role.reviewer": "Reviewer",
      "role.admin": "Admin",
      "loading": "Loading…",
      "login.title": "Sign in to review",
      "login.lead": "Use a reviewer or admin API key. It is exchanged for a session; the browser does not keep the key.",
      "login.key": "API key",
      "login.submit": "Sign in",
      "login.hint": "No key yet? An admin can make one:",
      "login.forbidden": "This key cannot open the review queue. Use a reviewer or admin key.",
      "login.unknown": "Unknown or revoked key.",
      "login.short": "Enter the whole key.",
      "help.button": "Keyboard shortcuts (?)",
      "help.title": "Keyboard shortcuts",
      "help.close": "Close",
      "help.hint": "Shortcuts are off while you type in a field. In the queue, c, y and o act on the selected items, or on the current one.",
      "help.jk": "Next / previous item",
      "help.enter": "Open the current item",
      "help.x": "Select the current item",
      "help.c": "Claim (or release) the item",
      "help.y": "Confirm the predicted intent",
      "help.o": "Mark out of scope",
      "help.e": "Correct the intent (focus the intent list; Enter saves)",
      "help.n": "Propose a new intent",
      "help.a": "Attach an article",
      "help.esc": "Back to the queue",
      "help.gq": "Go to the queue",
      "help.ga": "Go to analytics",
      "help.gu": "Go to unmet needs",
      "help.slash": "Search messages",
      "help.help": "Show this list",
      "queue.title": "Review queue",
      "queue.caption": "Messages to review, highest priority first",
      "queue.empty": "No items match these filters.",
      "queue.selectAll": "Select all items on this page",
      "queue.selectItem": "Select item {id}",
      "filter.label": "Filter the queue",
      "filter.status": "Status",
      "filter.reason": "Reason",
      "filter.intent": "Predicted intent",
      "filter.locale": "Language",
      "filter.search": "Search messages",
      "filter.mine": "Claimed by me",
      "filter.any": "Any",
      "status.open": "Open",
      "status.claimed": "Claimed",
      "status.done": "Done",
      "status.all": "All",
      "reason.handoff": "Handoff",
      "reason.low_confidence": "Low confidence",
      "reason.out_of_scope": "Out of scope",
      "reason.negative_feedback": "Negative feedback",
      "locale.ko": "Korean",
      "locale.en": "English",
      "col.priority": "Priority",
      "col.message": "Message",
      "col.intent": "Predicted intent",
      "col.reasons": "Reasons",
      "col.status": "Status",
      "claimedBy": "by {name}",
      "queue.nearest": "nearest: {name}",
      "page.prev": "Previous",
      "page.next": "Next",
      "page.range": "{from}–{to} of {total}",
      "count.items": "{count} items",
      "count.item": "1 item",
      "bulk.label": "Bulk actions",
      "bulk.selected": "{count} selected",
      "bulk.correctTo": "Correct to",
      "bulk.newIntentName": "New intent name",
      "bulk.clear": "Clear selection",
      "placeholder.intentName": "new_intent_name",
      "action.claim": "Claim",
      "action.release": "Release",
      "action.confirm": "Confirm",
      "action.correct": "Correct",
      "action.outOfScope": "Out of scope",
      "action.newIntent": "New intent",
      "action.propose": "Propose intent",
      "action.attach": "Attach article",
      "intent.choose": "Choose an intent…",
      "article.choose": "Choose an article…",
      "item.back": "Back to the queue",
      "item.title": "Item #{id}",
      "item.message": "Customer message",
      "item.received": "Received {time}",
      "item.prediction": "Prediction",
      "item.predicted": "Predicted intent",
      "item.alternatives": "Alternatives",
      "item.decision": "Decision",
      "item.reason": "Why",
      "item.articles": "Articles shown",
      "item.noArticles": "No articles were shown.",
      "item.conversation": "Conversation",
      "item.thisMessage": "This message",
      "item.actions": "Review",
      "item.claimHint": "Claim it so other reviewers skip it.",
      "item.claimedByYou": "You have claimed this item.",
      "item.claimedByOther": "{name} has claimed this item.",
      "item.doneBy": "Reviewed by {name}. A new label replaces the last one.",
      "item.confirm": "Confirm: {intent}",
      "item.correctTo": "Correct the intent to",
      "item.newIntent": "Propose a new intent",
      "item.newIntentName": "Intent name",
      "item.note": "Note (optional)",
      "item.attach": "Attach the article that answers it",
      "item.article": "Article",
      "item.history": "Label history",
      "item.noHistory": "Not labelled yet.",
      "item.model": "Model {version}",
      "item.priority": "Priority {value}",
      "item.position": "{index} of {total} in the queue",
      "label.confirm": "Confirmed",
      "label.correct": "Corrected",
      "label.out_of_scope": "Out of scope",
      "label.new_intent": "New intent",
      "label.attach_article": "Article attached",
      "decision.bot_answer": "Bot answered",
      "decision.suggest_articles": "Suggested articles",
      "decision.handoff": "Handed off",
      "feedback.helpful": "Helpful",
      "feedback.not_helpful": "Not helpful",
      "feedback.resolved": "Resolved",
      "feedback.escalated": "Escalated",
      "oos": "Out of scope",
      "done.claim": "Claimed {what}.",
      "done.release": "Released {what}.",
      "done.confirm": "Confirmed {what}.",
      "done.correct": "Corrected {what} to {intent}.",
      "done.out_of_scope": "Marked {what} out of scope.",
      "done.new_intent": "Labelled {what} with the new intent {intent}.",
      "done.attach_article": "Attached an article to {what}.",
      "error.intentRequired": "Choose an intent first.",
      "error.articleRequired": "Choose an article first.",
      "error.intentName": "Intent names use lowercase letters, digits and _, start with a letter, 2–64 characters.",
      "error.intentExists": "{intent} is already one of the model's intents: use Correct.",
      "error.network": "The server did not answer. Try again.",
      "error.409": "Someone else holds it",
      "error.403": "Not allowed",
      "error.404": "Not found",
      "error.422": "Not accepted",
      "error.429": "Too many requests; wait a moment",
      "error.503": "The service is not ready",
      "error.generic": "Something went wrong",
      "analytics.title": "Analytics",
      "analytics.period": "Period",
      "analytics.days": "Last {days} days",
      "card.deflection": "Deflection rate",
      "card.deflectionHint": "{count} conversations without a handoff",
      "card.handoff": "Handoff rate",
      "card.handoffHint": "of {count} messages",
      "card.botAnswer": "Bot answer rate",
      "card.botAnswerHint": "answered by the bot",
      "card.queue": "Review queue",
      "card.queueHint": "{claimed} claimed · {done} done",
      "card.open": "{count} open",
      "chart.trend": "Messages per day",
      "chart.trendDesc": "Messages, bot answers and handoffs for each day from {from} to {to}.",
      "chart.reasons": "Handoffs by reason",
      "chart.intents": "Top intents",
      "chart.feedback": "Feedback rates",
      "chart.barsDesc": "{title}: {values}.",
      "chart.empty": "Nothing in this period.",
      "series.suggestions": "Messages",
      "series.bot_answers": "Bot answers",
      "series.handoffs": "Handoffs",
      "axis.day": "Day",
      "axis.messages": "Messages",
      "axis.handoffs": "Handoffs",
      "axis.share": "Share of messages",
      "code.out_of_scope": "Out of scope",
      "code.person_requested": "Asked for a person",
      "code.frustrated": "Frustrated customer",
      "code.repeated_unhelpful": "Repeatedly unhelpful",
      "code.handoff_intent": "Intent for people",
      "code.low_confidence": "Low confidence",
      "code.no_article": "No article",
      "unmet.title": "Unmet needs",
      "unmet.lead": "Out-of-scope and low-confidence messages, grouped by meaning. Name a group to turn it into a new intent in one step.",
      "unmet.summary": "{clusters} groups from {considered} open messages",
      "unmet.summary.one": "1 group from {considered} open messages",
      "unmet.none": "No groups yet: similar out-of-scope or low-confidence messages will gather here.",
      "unmet.cluster": "Group {n}",
      "unmet.size": "{count} messages",
      "unmet.oos": "{share} out of scope",
      "unmet.terms": "Frequent words",
      "unmet.examples": "Examples",
      "unmet.name": "New intent name",
      "unmet.create": "Create intent",
    },
    ko: {
      "app.title": "Deflect 검토",
      "skip": "본문으로 건너뛰기",
      "lang.other": "English",
      "lang.otherLabel": "View in English (영어)",
      "nav.label": "화면",
      "nav.queue": "검토 대기열",
      "nav.analytics": "분석",
      "nav.unmet": "미충족 요구",
      "account.signOut": "로그아웃",
      "account.signedIn": "{name}(으)로 로그인됨",
      "role.reviewer": "검토자",
      "role.admin": "관리자",
      "loading": "불러오는 중…",
      "login.title": "검토 화면 로그인",
      "login.lead": "검토자 또는 관리자 API 키를 입력하세요. 키는 세션으로 교환되며 브라우저에 저장되지 않습니다.",
      "login.key": "API 키",
      "login.submit": "로그인",
      "login.hint": "키가 없나요? 관리자가 만들 수 있습니다:",
      "login.forbidden": "이 키로는 검토 대기열을 열 수 없습니다. 검토자 또는 관리자 키를 사용하세요.",
      "login.unknown": "알 수 없거나 폐기된 키입니다.",
      "login.short": "키 전체를 입력하세요.",
      "help.button": "단축키 (?)",
      "help.title": "단축키",
      "help.close": "닫기",
      "help.hint": "입력란에 입력하는 동안에는 단축키가 꺼집니다. 대기열에서 c, y, o는 선택한 항목(없으면 현재 항목)에 적용됩니다.",
      "help.jk": "다음 / 이전 항목",
      "help.enter": "현재 항목 열기",
      "help.x": "현재 항목 선택",
      "help.c": "담당하기 (또는 담당 해제)",
      "help.y": "예측 의도 확인",
      "help.o": "범위 밖으로 표시",
      "help.e": "의도 수정 (의도 목록으로 이동, Enter로 저장)",
      "help.n": "새 의도 제안",
      "help.a": "문서 연결",
      "help.esc": "대기열로 돌아가기",
      "help.gq": "대기열로 이동",
      "help.ga": "분석으로 이동",
      "help.gu": "미충족 요구로 이동",
      "help.slash": "메시지 검색",
      "help.help": "이 목록 보기",
      "queue.title": "검토 대기열",
      "queue.caption": "검토할 메시지, 우선순위 높은 순",
      "queue.empty": "조건에 맞는 항목이 없습니다.",
      "queue.selectAll": "이 페이지의 항목 모두 선택",
      "queue.selectItem": "{id}번 항목 선택",
      "filter.label": "대기열 필터",
      "filter.status": "상태",
      "filter.reason": "사유",
      "filter.intent": "예측 의도",
      "filter.locale": "언어",
      "filter.search": "메시지 검색",
      "filter.mine": "내가 담당한 항목",
      "filter.any": "전체",
      "status.open": "대기",
      "status.claimed": "담당 중",
      "status.done": "완료",
      "status.all": "전체",
      "reason.handoff": "상담원 연결",
      "reason.low_confidence": "낮은 확신도",
      "reason.out_of_scope": "범위 밖",
      "reason.negative_feedback": "부정적 피드백",
      "locale.ko": "한국어",
      "locale.en": "영어",
      "col.priority": "우선순위",
      "col.message": "메시지",
      "col.intent": "예측 의도",
      "col.reasons": "사유",
      "col.status": "상태",
      "claimedBy": "{name}",
      "queue.nearest": "가장 가까운 의도: {name}",
      "page.prev": "이전",
      "page.next": "다음",
      "page.range": "{total}건 중 {from}–{to}",
      "count.items": "{count}건",
      "count.item": "1건",
      "bulk.label": "일괄 작업",
      "bulk.selected": "{count}건 선택됨",
      "bulk.correctTo": "다음 의도로 수정",
      "bulk.newIntentName": "새 의도 이름",
      "bulk.clear": "선택 해제",
      "placeholder.intentName": "new_intent_name",
      "action.claim": "담당하기",
      "action.release": "담당 해제",
      "action.confirm": "확인",
      "action.correct": "수정",
      "action.outOfScope": "범위 밖",
      "action.newIntent": "새 의도",
      "action.propose": "의도 제안",
      "action.attach": "문서 연결",
      "intent.choose": "의도를 고르세요…",
      "article.choose": "문서를 고르세요…",
      "item.back": "대기열로 돌아가기",
      "item.title": "{id}번 항목",
      "item.message": "고객 메시지",
      "item.received": "{time} 접수",
      "item.prediction": "예측",
      "item.predicted": "예측 의도",
      "item.alternatives": "다른 후보",
      "item.decision": "처리",
      "item.reason": "이유",
      "item.articles": "보여준 문서",
      "item.noArticles": "보여준 문서가 없습니다.",
      "item.conversation": "대화",
      "item.thisMessage": "이 메시지",
      "item.actions": "검토",
      "item.claimHint": "담당하면 다른 검토자는 이 항목을 건너뜁니다.",
      "item.claimedByYou": "내가 담당 중인 항목입니다.",
      "item.claimedByOther": "{name} 님이 담당 중입니다.",
      "item.doneBy": "{name} 님이 검토했습니다. 새 라벨이 이전 라벨을 대신합니다.",
      "item.confirm": "확인: {intent}",
      "item.correctTo": "다음 의도로 수정",
      "item.newIntent": "새 의도 제안",
      "item.newIntentName": "의도 이름",
      "item.note": "메모 (선택)",
      "item.attach": "답이 되는 문서 연결",
      "item.article": "문서",
      "item.history": "라벨 기록",
      "item.noHistory": "아직 라벨이 없습니다.",
      "item.model": "모델 {version}",
      "item.priority": "우선순위 {value}",
      "item.position": "대기열 {total}건 중 {index}번째",
      "label.confirm": "확인",
      "label.correct": "수정",
      "label.out_of_scope": "범위 밖",
      "label.new_intent": "새 의도",
      "label.attach_article": "문서 연결",
      "decision.bot_answer": "봇 답변",
      "decision.suggest_articles": "문서 추천",
      "decision.handoff": "상담원 연결",
      "feedback.helpful": "도움됨",
      "feedback.not_helpful": "도움 안 됨",
      "feedback.resolved": "해결됨",
      "feedback.escalated": "상담 요청",
      "oos": "범위 밖",
      "done.claim": "{what}을 담당했습니다.",
      "done.release": "{what}의 담당을 해제했습니다.",
      "done.confirm": "{what}을 확인했습니다.",
      "done.correct": "{what}을 {intent}(으)로 수정했습니다.",
      "done.out_of_scope": "{what}을 범위 밖으로 표시했습니다.",
      "done.new_intent": "{what}에 새 의도 {intent} 라벨을 달았습니다.",
      "done.attach_article": "{what}에 문서를 연결했습니다.",
      "error.intentRequired": "먼저 의도를 고르세요.",
      "error.articleRequired": "먼저 문서를 고르세요.",
      "error.intentName": "의도 이름은 영문 소문자, 숫자, _로 쓰고 영문자로 시작하며 2–64자여야 합니다.",
      "error.intentExists": "{intent}은 이미 모델에 있는 의도입니다. 수정을 사용하세요.",
      "error.network": "서버가 응답하지 않습니다. 다시 시도하세요.",
      "error.409": "다른 검토자가 담당 중입니다",
      "error.403": "허용되지 않습니다",
      "error.404": "찾을 수 없습니다",
      "error.422": "받아들일 수 없습니다",
      "error.429": "요청이 너무 많습니다. 잠시 기다리세요",
      "error.503": "서비스가 아직 준비되지 않았습니다",
      "error.generic": "문제가 생겼습니다",
      "analytics.title": "분석",
      "analytics.period": "기간",
      "analytics.days": "최근 {days}일",
      "card.deflection": "자동 해결률",
      "card.deflectionHint": "상담원 연결 없이 끝난 대화 {count}건",
      "card.handoff": "상담원 연결률",
      "card.handoffHint": "메시지 {count}건 중",
      "card.botAnswer": "봇 답변률",
      "card.botAnswerHint": "봇이 답한 메시지",
      "card.queue": "검토 대기열",
      "card.queueHint": "담당 중 {claimed} · 완료 {done}",
      "card.open": "대기 {count}건",
      "chart.trend": "일별 메시지",
      "chart.trendDesc": "{from}부터 {to}까지 날마다의 메시지, 봇 답변, 상담원 연결 수.",
      "chart.reasons": "사유별 상담원 연결",
      "chart.intents": "많이 나온 의도",
      "chart.feedback": "피드백 비율",
      "chart.barsDesc": "{title}: {values}.",
      "chart.empty": "이 기간에는 데이터가 없습니다.",
      "series.suggestions": "메시지",
      "series.bot_answers": "봇 답변",
      "series.handoffs": "상담원 연결",
      "axis.day": "날짜",
      "axis.messages": "메시지 수",
      "axis.handoffs": "상담원 연결 수",
      "axis.share": "메시지 대비 비율",
      "code.out_of_scope": "범위 밖",
      "code.person_requested": "상담원 요청",
      "code.frustrated": "불만 고객",
      "code.repeated_unhelpful": "반복된 도움 안 됨",
      "code.handoff_intent": "상담원 담당 의도",
      "code.low_confidence": "낮은 확신도",
      "code.no_article": "문서 없음",
      "unmet.title": "미충족 요구",
      "unmet.lead": "범위 밖이거나 확신도가 낮은 메시지를 의미별로 묶었습니다. 묶음에 이름을 붙이면 한 번에 새 의도가 됩니다.",
      "unmet.summary": "대기 중인 메시지 {considered}건에서 {clusters}개 묶음",
      "unmet.none": "아직 묶음이 없습니다. 비슷한 범위 밖·낮은 확신도 메시지가 모이면 여기에 나타납니다.",
      "unmet.cluster": "묶음 {n}",
      "unmet.size": "메시지 {count}건",
      "unmet.oos": "범위 밖 {share}",
      "unmet.terms": "자주 나온 단어",
      "unmet.examples": "예시",
      "unmet.name": "새 의도 이름",
      "unmet.create": "의도 만들기",
    },
  };

  function initialLanguage() {
    const asked = new URLSearchParams(location.search).get("lang");
    if (asked === "ko" || asked === "en") return asked;
    let saved = null;
    try {
      saved = localStorage.getItem(LANGUAGE_KEY);
    } catch (_) {
      // storage may be off; fall back to the browser's language
    }
    if (saved === "ko" || saved === "en") return saved;
    return (navigator.language || "").toLowerCase().startsWith("ko") ? "ko" : "en";
  }

  let lang = initialLanguage();

  function t(key, values) {
    const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
    return values ? text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole)) : text;
  }

  function has(key) {
    return key in STRINGS[lang] || key in STRINGS.en;
  }

  /** `key.one` for one of something where the language has it (English), else `key`. */
  function plural(key, count) {
    return count === 1 && `${key}.one` in STRINGS[lang] ? `${key}.one` : key;
  }

  function itemsText(count) {
    return count === 1 ? t("count.item") : t("count.items", { count: formatNumber(count) });
  }

  function formatNumber(value) {
    return new Intl.NumberFormat(lang === "ko" ? "ko-KR" : "en-US").format(value);
  }

  function formatPercent(value, digits = 1) {
    if (value === null || value === undefined) return "–";
    return new Intl.NumberFormat(lang === "ko" ? "ko-KR" : "en-US", {
      style: "percent",
      maximumFractionDigits: digits,
    }).format(value);
  }

  function formatTime(iso) {
    return new Intl.DateTimeFormat(lang === "ko" ? "ko-KR" : "en-US", {
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    }).format(new Date(iso));
  }

  function setLanguage(next) {
    lang = next;
    try {
      localStorage.setItem(LANGUAGE_KEY, next);
    } catch (_) {
      // not saved; the choice still holds for this page
    }
    const url = new URL(location.href);
    if (url.searchParams.has("lang")) {
      url.searchParams.set("lang", next);
      history.replaceState(history.state, "", url);
    }
    applyStaticText();
  }

  /** Texts written in the HTML, marked with data-i18n (textContent) and data-i18n-* (attributes). */
  function applyStaticText() {
    document.documentElement.lang = lang;
    document.title = document.body.dataset.page === "login" ? `${t("app.title")} · ${t("login.submit")}` : t("app.title");
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const attribute of ["aria-label", "title", "placeholder"]) {
      for (const node of document.querySelectorAll(`[data-i18n-${attribute}]`)) {
        node.setAttribute(attribute, t(node.getAttribute(`data-i18n-${attribute}`)));
      }
    }
    const toggle = document.getElementById("lang-toggle");
    if (toggle) {
      toggle.textContent = t("lang.other");
      toggle.lang = lang === "ko" ? "en" : "ko";
      toggle.setAttribute("aria-label", t("lang.otherLabel"));
    }
  }

  // ---- the DOM, without HTML strings --------------------------------------------------------------------------

  /** An element. props: `on*` listeners; `dataset`; names with a dash (aria-*), role, for and list as attributes
   * (left out when null or false); anything else as a property (className, value, checked, …). */
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    setProps(node, props);
    append(node, children);
    return node;
  }

  function s(tag, attributes, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== null && value !== undefined) node.setAttribute(name, String(value));
    }
    append(node, children);
    return node;
  }

  function setProps(node, props) {
    for (const [name, value] of Object.entries(props || {})) {
      if (value === null || value === undefined) continue;
      if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
      else if (name === "dataset") Object.assign(node.dataset, value);
      else if (name.includes("-") || ["role", "for", "list"].includes(name)) {
        if (value !== false) node.setAttribute(name, value);
      } else node[name] = value;
    }
  }

  function append(node, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  function replace(node, ...children) {
    node.replaceChildren();
    append(node, children);
  }

  const $ = (id) => document.getElementById(id);

  // ---- the API ------------------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, { method = "GET", body } = {}) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["x-deflect-review"] = "1";
    if (body !== undefined) headers["content-type"] = "application/json";
    let response;
    try {
      response = await fetch(API + path, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (_) {
      throw new ApiError(0, t("error.network"));
    }
    if (response.status === 401 && document.body.dataset.page !== "login") {
      location.assign(loginUrl());
      throw new ApiError(401, "");
    }
    if (response.status === 204) return null;
    const payload = await response.json().catch(() => null);
    if (!response.ok) {
      const message = payload && payload.error ? payload.error.message : "";
      throw new ApiError(response.status, message);
    }
    return payload;
  }

  function errorText(error) {
    if (!(error instanceof ApiError)) return t("error.generic");
    if (error.status === 0) return error.message;
    const title = has(`error.${error.status}`) ? t(`error.${error.status}`) : t("error.generic");
    return error.message ? `${title}: ${error.message}` : title;
  }

  function loginUrl() {
    return `/review/login${location.search}`;
  }

  // ---- announcements (one aria-live region) -------------------------------------------------------------------

  let toastTimer = null;

  function announce(message, kind = "ok") {
    const region = $("status");
    region.className = `toast visible ${kind}`;
    region.textContent = message;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => region.classList.remove("visible"), TOAST_MS);
  }

  function announceError(error) {
    if (error instanceof ApiError && error.status === 401) return; // on the way to the sign-in page
    announce(errorText(error), "error");
  }

  // ---- sign-in page -------------------------------------------------------------------------------------------

  function startLogin() {
    applyStaticText();
    const form = $("login-form");
    const input = $("login-key");
    const error = $("login-error");
    const submit = form.querySelector('button[type="submit"]');
    let failure = null;

    const showError = (key) => {
      failure = key;
      error.textContent = t(key);
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
    };
    $("lang-toggle").addEventListener("click", () => {
      setLanguage(lang === "ko" ? "en" : "ko");
      if (failure) error.textContent = t(failure);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      input.removeAttribute("aria-invalid");
      const key = input.value.trim();
      if (key.length < 8) return showError("login.short");
      submit.disabled = true;
      try {
        await api("/session", { method: "POST", body: { key } });
        input.value = "";
        location.replace(`/review${location.search}`);
      } catch (problem) {
        const status = problem instanceof ApiError ? problem.status : 0;
        showError({ 401: "login.unknown", 403: "login.forbidden", 422: "login.short", 0: "error.network" }[status] || "error.generic");
      } finally {
        submit.disabled = false;
      }
    });
    input.focus();
  }

  // ---- the review page: state -----------------------------------------------------------------------------------

  const state = {
    me: null,
    catalog: { intents: [], articles: [], proposed_intents: [] },
    view: null,
    queueHash: "#/queue",
    queue: null, // {total, items} as last shown
    queueParams: new URLSearchParams(),
    cursor: 0,
    selected: new Set(),
    focusRow: false,
    detail: null,
    pendingFocus: null,
    analytics: null,
    unmet: null,
    loads: { queue: 0, item: 0, analytics: 0, unmet: 0 },
    gPressedAt: 0,
  };

  /** An intent's name in the reviewer's language (the API names them in the customer's). */
  function intentName(intent, fallback) {
    if (intent === OUT_OF_SCOPE) return t("oos");
    const known = state.catalog.intents.find((entry) => entry.intent === intent);
    if (!known) return fallback || intent;
    return lang === "ko" ? known.name_ko : known.name_en;
  }

  function articleById(id) {
    return state.catalog.articles.find((article) => article.id === id) || null;
  }

  function isMine(item) {
    return state.me && item.claimed_by === state.me.reviewer;
  }

  // ---- small pieces -------------------------------------------------------------------------------------------

  function badge(text, kind, title) {
    return h("span", { className: `badge ${kind}`, title }, text);
  }

  function reasonBadges(reasons) {
    return h("span", { className: "badges" }, reasons.map((reason) => badge(t(`reason.${reason}`), `reason-${reason}`)));
  }

  function statusCell(item) {
    const claimer = item.status === "claimed" && item.claimed_by ? h("span", { className: "muted small" }, t("claimedBy", { name: item.claimed_by })) : null;
    return h("span", { className: "status-cell" }, badge(t(`status.${item.status}`), `status-${item.status}`), claimer);
  }

  function localeBadge(locale) {
    return h("span", { className: "locale", title: t(`locale.${locale}`) }, locale.toUpperCase());
  }

  function confidenceMeter(value) {
    const level = value >= 0.75 ? "high" : value >= 0.45 ? "mid" : "low";
    return h(
      "span",
      { className: `confidence ${level}` },
      h("span", { className: "meter", "aria-hidden": "true" }, h("span", { style: `width:${Math.round(value * 100)}%` })),
      h("span", { className: "value" }, formatPercent(value, 0)),
    );
  }

  function priorityPill(value) {
    const level = value >= 6 ? "urgent" : value >= 3 ? "high" : "normal";
    return h("span", { className: `priority ${level}` }, value.toFixed(1));
  }

  function intentOptions(select, { placeholder, exclude } = {}) {
    const current = select.value;
    select.replaceChildren();
    if (placeholder) select.append(h("option", { value: "" }, placeholder));
    const intents = [...state.catalog.intents].sort((a, b) =>
      intentName(a.intent).localeCompare(intentName(b.intent), lang),
    );
    for (const entry of intents) {
      if (entry.intent === exclude) continue;
      select.append(h("option", { value: entry.intent }, `${intentName(entry.intent)} · ${entry.intent}`));
    }
    select.value = current;
    if (select.value !== current) select.value = "";
  }

  function articleOptions(select, preferredLocale) {
    select.replaceChildren(h("option", { value: "" }, t("article.choose")));
    const locales = [preferredLocale, ...new Set(state.catalog.articles.map((a) => a.locale))].filter(
      (locale, index, all) => locale && all.indexOf(locale) === index,
    );
    for (const locale of locales) {
      const group = h("optgroup", { label: has(`locale.${locale}`) ? t(`locale.${locale}`) : locale });
      for (const article of state.catalog.articles.filter((a) => a.locale === locale)) {
        group.append(h("option", { value: article.id }, article.title));
      }
      if (group.children.length) select.append(group);
    }
  }

  function fillProposedIntents() {
    replace($("proposed-intents"), state.catalog.proposed_intents.map((name) => h("option", { value: name })));
  }

  /** The message for an intent name a reviewer typed, or null when it is a fine new intent. */
  function newIntentProblem(name) {
    if (!INTENT_NAME.test(name)) return t("error.intentName");
    if (state.catalog.intents.some((entry) => entry.intent === name)) return t("error.intentExists", { intent: name });
    return null;
  }

  function doneText(action, count, intent) {
    return t(`done.${action}`, { what: itemsText(count), intent: intent ? intentName(intent) : "" });
  }

  /** One label or claim action on items (one request); returns true when it went through. */
  async function act(itemIds, action, extra = {}, { asBulk = false } = {}) {
    const body = { action, ...extra };
    try {
      if (itemIds.length === 1 && !asBulk && (action === "claim" || action === "release")) {
        await api(`/items/${itemIds[0]}/${action}`, { method: "POST" });
      } else if (itemIds.length === 1 && !asBulk) {
        await api(`/items/${itemIds[0]}/label`, { method: "POST", body });
      } else {
        await api("/bulk", { method: "POST", body: { ...body, item_ids: itemIds } });
      }
    } catch (error) {
      announceError(error);
      return false;
    }
    announce(doneText(action, itemIds.length, extra.intent));
    if (action === "new_intent") refreshCatalog();
    return true;
  }

  async function refreshCatalog() {
    try {
      state.catalog = await api("/catalog");
    } catch (error) {
      announceError(error);
      return;
    }
    fillProposedIntents();
    fillIntentFilters();
  }

  // ---- routing ------------------------------------------------------------------------------------------------

  function parseHash() {
    const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
    const parts = path.split("/");
    if (parts[0] === "item" && /^\d+$/.test(parts[1] || "")) return { view: "item", id: Number(parts[1]) };
    if (parts[0] === "analytics") return { view: "analytics" };
    if (parts[0] === "unmet") return { view: "unmet" };
    return { view: "queue", params: new URLSearchParams(query) };
  }

  function show(view) {
    state.view = view;
    for (const section of document.querySelectorAll("main > .view")) section.hidden = section.id !== `view-${view}`;
    for (const link of document.querySelectorAll(".tabs a")) {
      const current = link.dataset.view === (view === "item" ? "queue" : view);
      if (current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  function route() {
    const where = parseHash();
    const previous = state.view;
    show(where.view);
    if (where.view === "queue") {
      state.queueHash = location.hash || "#/queue";
      document.querySelector('.tabs a[data-view="queue"]').setAttribute("href", state.queueHash); // keeps the filters
      if (previous === "item") state.focusRow = true;
      loadQueue(where.params);
    } else if (where.view === "item") {
      loadItem(where.id);
    } else if (where.view === "analytics") {
      loadAnalytics();
    } else {
      loadUnmet();
    }
  }

  function backToQueue() {
    location.hash = state.queueHash;
  }

  // ---- queue --------------------------------------------------------------------------------------------------

  const FILTERS = ["status", "reason", "intent", "locale", "q", "mine"];

  function fillIntentFilters() {
    intentOptions($("f-intent"), { placeholder: t("filter.any") });
    const filter = $("f-intent");
    const wanted = state.queueParams.get("intent") || "";
    if (wanted && ![...filter.options].some((option) => option.value === wanted)) {
      filter.append(h("option", { value: wanted }, wanted));
    }
    filter.value = wanted;
    intentOptions($("bulk-intent"), { placeholder: t("intent.choose") });
  }

  function syncFilterForm(params) {
    const form = $("filters");
    form.elements.status.value = params.get("status") || "open";
    form.elements.reason.value = params.get("reason") || "";
    form.elements.locale.value = params.get("locale") || "";
    form.elements.mine.checked = params.get("mine") === "true";
    if (form.elements.q.value !== (params.get("q") || "")) form.elements.q.value = params.get("q") || "";
    fillIntentFilters();
  }

  function applyFilters() {
    if (state.view !== "queue") return; // a search typed just before leaving the queue must not pull you back
    const form = $("filters");
    const params = new URLSearchParams();
    for (const name of FILTERS) {
      const field = form.elements[name];
      const value = field.type === "checkbox" ? (field.checked ? "true" : "") : field.value.trim();
      if (value && !(name === "status" && value === "open")) params.set(name, value);
    }
    state.cursor = 0;
    location.hash = `#/queue${params.toString() ? `?${params}` : ""}`;
  }

  async function loadQueue(params) {
    state.queueParams = params;
    syncFilterForm(params);
    const page = Math.max(0, Number(params.get("page") || 0) | 0);
    const query = new URLSearchParams({ status: params.get("status") || "open", limit: PAGE_SIZE, offset: page * PAGE_SIZE });
    for (const name of ["reason", "intent", "locale", "q"]) if (params.get(name)) query.set(name, params.get(name));
    if (params.get("mine") === "true") query.set("mine", "true");
    const load = ++state.loads.queue;
    $("queue-rows").setAttribute("aria-busy", "true");
    try {
      const result = await api(`/items?${query}`);
      if (load !== state.loads.queue) return;
      state.queue = { ...result, page };
    } catch (error) {
      if (load === state.loads.queue) announceError(error);
      return;
    } finally {
      if (load === state.loads.queue) $("queue-rows").removeAttribute("aria-busy");
    }
    const ids = new Set(state.queue.items.map((item) => item.id));
    state.selected = new Set([...state.selected].filter((id) => ids.has(id)));
    state.cursor = Math.min(state.cursor, Math.max(state.queue.items.length - 1, 0));
    renderQueue();
  }

  function renderQueue() {
    if (!state.queue) return;
    const { items, total, page } = state.queue;
    $("queue-count").textContent = itemsText(total);
    replace($("queue-rows"), items.map(queueRow));
    $("queue-empty").hidden = items.length > 0;
    const from = total ? page * PAGE_SIZE + 1 : 0;
    $("page-info").textContent = t("page.range", {
      from: formatNumber(from),
      to: formatNumber(page * PAGE_SIZE + items.length),
      total: formatNumber(total),
    });
    $("page-prev").disabled = page === 0;
    $("page-next").disabled = (page + 1) * PAGE_SIZE >= total;
    renderSelection();
    markCursor(state.focusRow);
    state.focusRow = false;
  }

  function queueRow(item, index) {
    const checkbox = h("input", {
      type: "checkbox",
      checked: state.selected.has(item.id),
      "aria-label": t("queue.selectItem", { id: item.id }),
      onchange: (event) => {
        if (event.target.checked) state.selected.add(item.id);
        else state.selected.delete(item.id);
        renderSelection();
      },
    });
    const row = h(
      "tr",
      { dataset: { id: item.id }, className: state.selected.has(item.id) ? "selected" : "" },
      h("td", { className: "col-select" }, checkbox),
      h("td", { className: "col-priority" }, priorityPill(item.priority)),
      h(
        "td",
        { className: "col-message" },
        h("a", { href: `#/item/${item.id}`, className: "message-link", lang: item.locale }, item.text),
        h("div", { className: "meta" }, localeBadge(item.locale), h("span", {}, formatTime(item.created_at)), h("span", {}, `#${item.id}`)),
      ),
      h(
        "td",
        { className: "col-intent" },
        h(
          "div",
          { className: "intent-line" },
          h("span", { className: "intent-name" }, item.out_of_scope ? t("oos") : intentName(item.intent, item.intent_name)),
          confidenceMeter(item.confidence),
        ),
        item.out_of_scope ? h("div", { className: "muted small" }, t("queue.nearest", { name: intentName(item.intent, item.intent_name) })) : null,
      ),
      h("td", { className: "col-reasons" }, reasonBadges(item.reasons)),
      h("td", { className: "col-status" }, statusCell(item), item.label ? h("div", { className: "muted small" }, labelSummary(item.label)) : null),
    );
    row.addEventListener("click", (event) => {
      if (event.target.closest("a, input, button")) return;
      state.cursor = index;
      markCursor(true);
    });
    return row;
  }

  function labelSummary(label) {
    const intent = ["correct", "new_intent"].includes(label.action) ? ` → ${intentName(label.intent)}` : "";
    return `${t(`label.${label.action}`)}${intent} · ${label.reviewer}`;
  }

  function markCursor(focus) {
    const rows = $("queue-rows").rows;
    for (const [index, row] of [...rows].entries()) {
      if (index === state.cursor) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    }
    const row = rows[state.cursor];
    if (row && focus) {
      row.querySelector(".message-link").focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function renderSelection() {
    const count = state.selected.size;
    $("bulk").hidden = count === 0;
    $("bulk-count").textContent = t("bulk.selected", { count: formatNumber(count) });
    const items = state.queue ? state.queue.items : [];
    const all = $("select-all");
    all.checked = items.length > 0 && items.every((item) => state.selected.has(item.id));
    all.indeterminate = count > 0 && !all.checked;
    for (const row of $("queue-rows").rows) {
      const selected = state.selected.has(Number(row.dataset.id));
      row.classList.toggle("selected", selected);
      row.querySelector('input[type="checkbox"]').checked = selected;
    }
  }

  function currentQueueItem() {
    return state.queue ? state.queue.items[state.cursor] || null : null;
  }

  /** The items queue shortcuts and bulk buttons act on: the selection, else the current row. */
  function targetIds() {
    if (state.selected.size) return [...state.selected];
    const item = currentQueueItem();
    return item ? [item.id] : [];
  }

  async function bulk(action, ids = targetIds()) {
    if (!ids.length) return;
    const extra = {};
    if (action === "correct") {
      extra.intent = $("bulk-intent").value;
      if (!extra.intent) {
        $("bulk-intent").focus();
        return announce(t("error.intentRequired"), "error");
      }
    }
    if (action === "new_intent") {
      extra.intent = $("bulk-new-intent").value.trim();
      const problem = newIntentProblem(extra.intent);
      if (problem) {
        $("bulk-new-intent").focus();
        return announce(problem, "error");
      }
    }
    if (await act(ids, action, extra)) {
      state.selected.clear();
      state.focusRow = true;
      loadQueue(state.queueParams);
    }
  }

  function claimToggle(item) {
    return item && isMine(item) && item.status === "claimed" ? "release" : "claim";
  }

  function setupQueue() {
    const form = $("filters");
    let searchTimer = null;
    form.addEventListener("change", (event) => {
      if (event.target.name !== "q") applyFilters();
    });
    form.elements.q.addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(applyFilters, SEARCH_DELAY_MS);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      clearTimeout(searchTimer);
      applyFilters();
    });
    $("select-all").addEventListener("change", (event) => {
      for (const item of state.queue ? state.queue.items : []) {
        if (event.target.checked) state.selected.add(item.id);
        else state.selected.delete(item.id);
      }
      renderSelection();
    });
    for (const button of document.querySelectorAll("[data-bulk]")) {
      button.addEventListener("click", () => bulk(button.dataset.bulk, [...state.selected]));
    }
    $("bulk-new-intent").addEventListener("keydown", (event) => {
      if (event.key === "Enter") bulk("new_intent", [...state.selected]);
    });
    $("bulk-clear").addEventListener("click", () => {
      state.selected.clear();
      renderSelection();
    });
    const turnPage = (step) => {
      const params = new URLSearchParams(state.queueParams);
      const page = Math.max(0, (state.queue ? state.queue.page : 0) + step);
      if (page) params.set("page", page);
      else params.delete("page");
      state.cursor = 0;
      location.hash = `#/queue${params.toString() ? `?${params}` : ""}`;
    };
    $("page-prev").addEventListener("click", () => turnPage(-1));
    $("page-next").addEventListener("click", () => turnPage(1));
  }

  // ---- item detail --------------------------------------------------------------------------------------------

  async function loadItem(id) {
    const load = ++state.loads.item;
    const section = $("view-item");
    if (!state.detail || state.detail.item.id !== id) {
      replace(section, h("p", { className: "muted loading" }, t("loading")));
    }
    try {
      const detail = await api(`/items/${id}`);
      if (load !== state.loads.item) return;
      state.detail = detail;
    } catch (error) {
      if (load !== state.loads.item) return;
      announceError(error);
      replace(section, h("p", { className: "empty" }, errorText(error)), backLink());
      return;
    }
    const index = state.queue ? state.queue.items.findIndex((item) => item.id === id) : -1;
    if (index >= 0) state.cursor = index;
    renderItem();
  }

  function backLink() {
    return h("a", { href: state.queueHash, className: "back", "aria-keyshortcuts": "Escape" }, `← ${t("item.back")}`);
  }

  function renderItem() {
    const { item, conversation, labels } = state.detail;
    const section = $("view-item");
    const position =
      state.queue && state.queue.items[state.cursor] && state.queue.items[state.cursor].id === item.id
        ? t("item.position", { index: state.queue.page * PAGE_SIZE + state.cursor + 1, total: state.queue.total })
        : null;
    replace(
      section,
      h("div", { className: "item-nav" }, backLink(), position ? h("span", { className: "muted small" }, position) : null),
      h(
        "div",
        { className: "view-head" },
        h("h1", { id: "item-heading", tabIndex: -1 }, t("item.title", { id: item.id })),
        statusCell(item),
        reasonBadges(item.reasons),
        priorityPill(item.priority),
      ),
      h(
        "div",
        { className: "item-layout" },
        h("div", { className: "item-main" }, messageCard(item), conversationCard(item, conversation)),
        h("aside", { className: "item-side" }, actionsCard(item), historyCard(labels)),
      ),
    );
    const focus = state.pendingFocus;
    state.pendingFocus = null;
    const target = focus && $(`item-${focus}`);
    if (target) target.focus();
    else $("item-heading").focus({ preventScroll: true });
  }

  function card(title, id, ...children) {
    return h("section", { className: "card", "aria-labelledby": id }, h("h2", { id }, title), ...children);
  }

  function field(label, value) {
    return h("div", { className: "kv" }, h("dt", {}, label), h("dd", {}, value));
  }

  function articleLinks(ids) {
    if (!ids.length) return h("p", { className: "muted small" }, t("item.noArticles"));
    return h(
      "ul",
      { className: "articles" },
      ids.map((id) => {
        const article = articleById(id);
        if (!article) return h("li", {}, h("code", {}, id));
        const safeUrl = /^https?:\/\//i.test(article.url) ? article.url : null;
        return h(
          "li",
          {},
          safeUrl ? h("a", { href: safeUrl, target: "_blank", rel: "noopener noreferrer" }, article.title) : article.title,
          " ",
          h("code", { className: "muted" }, id),
        );
      }),
    );
  }

  function messageCard(item) {
    return card(
      t("item.message"),
      "item-message-title",
      h("blockquote", { className: "customer-text", lang: item.locale }, item.text),
      h(
        "div",
        { className: "meta" },
        localeBadge(item.locale),
        h("span", {}, t("item.received", { time: formatTime(item.created_at) })),
        h("span", {}, t("item.model", { version: item.model_version })),
      ),
      h(
        "dl",
        { className: "facts" },
        field(
          t("item.predicted"),
          h(
            "span",
            { className: "prediction" },
            h("strong", {}, intentName(item.intent, item.intent_name)),
            h("code", { className: "muted" }, item.intent),
            item.out_of_scope ? badge(t("oos"), "reason-out_of_scope") : null,
            confidenceMeter(item.confidence),
          ),
        ),
        field(
          t("item.alternatives"),
          h(
            "ol",
            { className: "alternatives" },
            item.alternatives.map((alternative) =>
              h(
                "li",
                {},
                h("span", {}, intentName(alternative.intent, alternative.name)),
                h("code", { className: "muted" }, alternative.intent),
                confidenceMeter(alternative.confidence),
              ),
            ),
          ),
        ),
        field(t("item.decision"), h("span", {}, badge(t(`decision.${item.decision}`), `decision-${item.decision}`), " ", h("span", { className: "muted" }, item.reason))),
        field(t("item.articles"), articleLinks(item.articles)),
      ),
    );
  }

  function conversationCard(item, conversation) {
    return card(
      t("item.conversation"),
      "item-conversation-title",
      h(
        "ol",
        { className: "conversation" },
        conversation.map((turn) => {
          const current = turn.suggestion_id === item.suggestion_id;
          return h(
            "li",
            { className: current ? "turn current" : "turn", "aria-current": current ? "true" : null },
            h(
              "div",
              { className: "turn-head" },
              h("time", { dateTime: turn.created_at }, formatTime(turn.created_at)),
              current ? badge(t("item.thisMessage"), "this") : null,
            ),
            h("p", { className: "turn-text", lang: item.locale }, turn.text),
            h(
              "div",
              { className: "turn-meta" },
              h("span", {}, `${intentName(turn.intent, turn.intent_name)} · ${formatPercent(turn.confidence, 0)}`),
              badge(t(`decision.${turn.decision}`), `decision-${turn.decision}`),
              turn.feedback.map((feedback) => badge(t(`feedback.${feedback}`), `feedback-${feedback}`)),
            ),
            turn.articles.length
              ? h("div", { className: "turn-articles small muted" }, turn.articles.map((id) => (articleById(id) || { title: id }).title).join(" · "))
              : null,
          );
        }),
      ),
    );
  }

  function actionsCard(item) {
    const mine = isMine(item);
    const claimNote =
      item.status === "done"
        ? t("item.doneBy", { name: item.claimed_by || "?" })
        : item.status === "claimed"
          ? mine
            ? t("item.claimedByYou")
            : t("item.claimedByOther", { name: item.claimed_by })
          : t("item.claimHint");
    const claimAction = claimToggle(item);
    const claimButton =
      item.status === "done"
        ? null
        : h(
            "button",
            { type: "button", id: "item-claim", "aria-keyshortcuts": "c", onclick: () => detailAction(claimAction) },
            t(claimAction === "claim" ? "action.claim" : "action.release"),
          );
    const confirmIntent = item.out_of_scope ? t("oos") : intentName(item.intent, item.intent_name);

    const correctSelect = h("select", { id: "item-correct", "aria-keyshortcuts": "e" });
    intentOptions(correctSelect, { placeholder: t("intent.choose"), exclude: item.out_of_scope ? null : item.intent });
    correctSelect.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        event.target.form.requestSubmit();
      }
    });
    const articleSelect = h("select", { id: "item-article", "aria-keyshortcuts": "a" });
    articleOptions(articleSelect, item.locale);
    articleSelect.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        event.target.form.requestSubmit();
      }
    });

    return card(
      t("item.actions"),
      "item-actions-title",
      h("div", { className: "claim-row" }, h("p", { className: "small muted" }, claimNote), claimButton),
      h(
        "div",
        { className: "button-row" },
        h("button", { type: "button", className: "primary", id: "item-confirm", "aria-keyshortcuts": "y", onclick: () => detailAction("confirm") }, t("item.confirm", { intent: confirmIntent })),
        h("button", { type: "button", id: "item-out-of-scope", "aria-keyshortcuts": "o", onclick: () => detailAction("out_of_scope") }, t("action.outOfScope")),
      ),
      h(
        "form",
        {
          className: "action-form",
          onsubmit: (event) => {
            event.preventDefault();
            if (!correctSelect.value) {
              correctSelect.focus();
              return announce(t("error.intentRequired"), "error");
            }
            detailAction("correct", { intent: correctSelect.value });
          },
        },
        h("label", { for: "item-correct" }, t("item.correctTo")),
        h("div", { className: "joined" }, correctSelect, h("button", { type: "submit" }, t("action.correct"))),
      ),
      h(
        "form",
        {
          className: "action-form",
          onsubmit: (event) => {
            event.preventDefault();
            const name = $("item-new-intent").value.trim();
            const problem = newIntentProblem(name);
            if (problem) {
              $("item-new-intent").focus();
              return announce(problem, "error");
            }
            detailAction("new_intent", { intent: name, note: $("item-note").value.trim() || undefined });
          },
        },
        h("label", { for: "item-new-intent" }, t("item.newIntent")),
        h("input", {
          id: "item-new-intent",
          type: "text",
          list: "proposed-intents",
          autocomplete: "off",
          spellcheck: false,
          placeholder: t("placeholder.intentName"),
          "aria-keyshortcuts": "n",
          "aria-describedby": "item-new-intent-hint",
        }),
        h("p", { id: "item-new-intent-hint", className: "hint" }, t("error.intentName")),
        h("label", { for: "item-note", className: "visually-hidden" }, t("item.note")),
        h("textarea", { id: "item-note", rows: 2, maxLength: 1000, placeholder: t("item.note") }),
        h("button", { type: "submit" }, t("action.propose")),
      ),
      h(
        "form",
        {
          className: "action-form",
          onsubmit: (event) => {
            event.preventDefault();
            if (!articleSelect.value) {
              articleSelect.focus();
              return announce(t("error.articleRequired"), "error");
            }
            detailAction("attach_article", { article_id: articleSelect.value });
          },
        },
        h("label", { for: "item-article" }, t("item.attach")),
        h("div", { className: "joined" }, articleSelect, h("button", { type: "submit" }, t("action.attach"))),
      ),
    );
  }

  function historyCard(labels) {
    return card(
      t("item.history"),
      "item-history-title",
      labels.length
        ? h(
            "ol",
            { className: "history" },
            labels.map((label) =>
              h(
                "li",
                {},
                h("div", {}, badge(t(`label.${label.action}`), `label-${label.action}`), " ", h("strong", {}, intentName(label.intent))),
                label.article_id ? h("div", { className: "small" }, (articleById(label.article_id) || { title: label.article_id }).title) : null,
                label.note ? h("p", { className: "note" }, label.note) : null,
                h("div", { className: "small muted" }, `${label.reviewer} · ${formatTime(label.created_at)}`),
              ),
            ),
          )
        : h("p", { className: "muted small" }, t("item.noHistory")),
    );
  }

  async function detailAction(action, extra = {}) {
    if (!state.detail) return;
    const id = state.detail.item.id;
    const buttons = [...$("view-item").querySelectorAll("button")];
    buttons.forEach((button) => (button.disabled = true));
    const done = await act([id], action, extra);
    buttons.forEach((button) => (button.disabled = false));
    if (!done) return;
    if (action === "claim" || action === "release") return loadItem(id);
    backToQueue(); // labelled: it left the open queue; the cursor stays on the row that takes its place
  }

  function stepItem(step) {
    if (!state.queue || !state.detail) return;
    const index = state.queue.items.findIndex((item) => item.id === state.detail.item.id);
    const next = state.queue.items[(index < 0 ? state.cursor : index) + step];
    if (next) location.hash = `#/item/${next.id}`;
  }

  // ---- analytics ----------------------------------------------------------------------------------------------

  async function loadAnalytics() {
    const days = $("analytics-days").value;
    const load = ++state.loads.analytics;
    if (!state.analytics) replace($("analytics-body"), h("p", { className: "muted loading" }, t("loading")));
    try {
      const figures = await api(`/analytics?days=${days}`);
      if (load !== state.loads.analytics) return;
      state.analytics = figures;
    } catch (error) {
      if (load === state.loads.analytics) announceError(error);
      return;
    }
    renderAnalytics();
  }

  function fillDayOptions() {
    for (const option of $("analytics-days").options) option.textContent = t("analytics.days", { days: option.value });
  }

  function statCard(title, value, hint, kind) {
    return h("div", { className: `stat ${kind || ""}` }, h("div", { className: "stat-title" }, title), h("div", { className: "stat-value" }, value), h("div", { className: "stat-hint" }, hint));
  }

  function renderAnalytics() {
    const a = state.analytics;
    const conversations = a.conversations;
    const deflected = a.deflection_rate === null ? 0 : Math.round(a.deflection_rate * conversations);
    const queue = { open: 0, claimed: 0, done: 0, ...a.queue };
    const handoffRows = a.handoffs_by_reason.map((row) => ({
      label: has(`code.${row.name}`) ? t(`code.${row.name}`) : row.name,
      value: row.count,
      text: formatNumber(row.count),
    }));
    const intentRows = a.top_intents.map((row) => ({ label: intentName(row.name), value: row.count, text: formatNumber(row.count) }));
    const feedbackCounts = Object.fromEntries(a.feedback.map((row) => [row.name, row.count]));
    const feedbackRows = Object.entries(a.feedback_rates)
      .sort((x, y) => y[1] - x[1])
      .map(([name, rate]) => ({
        label: has(`feedback.${name}`) ? t(`feedback.${name}`) : name,
        value: rate,
        text: `${formatPercent(rate)} (${formatNumber(feedbackCounts[name] || 0)})`,
      }));
    replace(
      $("analytics-body"),
      h(
        "div",
        { className: "stats" },
        statCard(t("card.deflection"), formatPercent(a.deflection_rate), t("card.deflectionHint", { count: formatNumber(deflected) }), "good"),
        statCard(t("card.handoff"), formatPercent(a.handoff_rate), t("card.handoffHint", { count: formatNumber(a.suggestions) }), "warn"),
        statCard(t("card.botAnswer"), formatPercent(a.bot_answer_rate), t("card.botAnswerHint")),
        statCard(t("card.queue"), t("card.open", { count: formatNumber(queue.open) }), t("card.queueHint", { claimed: formatNumber(queue.claimed), done: formatNumber(queue.done) })),
      ),
      h(
        "div",
        { className: "charts" },
        chartCard("trend", t("chart.trend"), trendChart(a.per_day), true),
        chartCard("reasons", t("chart.reasons"), barChart("reasons", t("chart.reasons"), handoffRows, t("axis.handoffs"), "var(--c-handoff)")),
        chartCard("intents", t("chart.intents"), barChart("intents", t("chart.intents"), intentRows, t("axis.messages"), "var(--c-accent)")),
        chartCard("feedback", t("chart.feedback"), barChart("feedback", t("chart.feedback"), feedbackRows, t("axis.share"), "var(--c-feedback)", true)),
      ),
    );
  }

  function chartCard(id, title, chart, wide) {
    return h("figure", { className: wide ? "card chart wide" : "card chart", id: `chart-${id}` }, h("figcaption", {}, title), chart);
  }

  /** Tick values from 0 to at least `max`, on a 1/2/5 step. */
  function ticks(max, count = 4) {
    if (max <= 0) return [0, 1];
    const raw = max / count;
    const magnitude = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * magnitude).find((m) => m >= raw);
    const values = [];
    for (let value = 0; value < max + step / 2; value += step) values.push(+value.toFixed(10));
    if (values[values.length - 1] < max) values.push(values[values.length - 1] + step);
    return values;
  }

  function accessibleSvg(id, title, description, width, height, ...children) {
    return s(
      "svg",
      { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": `${id}-title ${id}-desc`, class: "chart-svg", preserveAspectRatio: "xMidYMid meet" },
      s("title", { id: `${id}-title` }, title),
      s("desc", { id: `${id}-desc` }, description),
      ...children,
    );
  }

  /** Per-day messages, bot answers and handoffs as grouped bars: bars side by side never hide each other. */
  function trendChart(days) {
    const series = [
      { key: "suggestions", color: "var(--c-accent)" },
      { key: "bot_answers", color: "var(--c-good)" },
      { key: "handoffs", color: "var(--c-handoff)" },
    ];
    if (!days.length) return h("p", { className: "muted" }, t("chart.empty"));
    const width = 1040;
    const height = 250;
    const margin = { left: 56, right: 12, top: 12, bottom: 48 };
    const plotWidth = width - margin.left - margin.right;
    const plotHeight = height - margin.top - margin.bottom;
    const max = Math.max(1, ...days.flatMap((day) => series.map((bars) => day[bars.key])));
    const yTicks = ticks(max);
    const top = yTicks[yTicks.length - 1];
    const slot = plotWidth / days.length;
    const barWidth = Math.max(1, (slot * 0.8) / series.length);
    const y = (value) => margin.top + plotHeight - (value / top) * plotHeight;
    const labelEvery = Math.max(1, Math.ceil(days.length / 10));
    const shortDay = (day) => `${Number(day.slice(5, 7))}/${Number(day.slice(8, 10))}`;

    const grid = yTicks.map((value) =>
      s(
        "g",
        { class: "tick" },
        s("line", { x1: margin.left, x2: width - margin.right, y1: y(value), y2: y(value), class: "grid" }),
        s("text", { x: margin.left - 8, y: y(value) + 4, "text-anchor": "end" }, formatNumber(value)),
      ),
    );
    const groups = days.map((day, index) => {
      const left = margin.left + index * slot + slot * 0.1;
      const labelled = (days.length - 1 - index) % labelEvery === 0; // always label the latest day
      return s(
        "g",
        { class: "day" },
        series.map((bars, position) =>
          day[bars.key]
            ? s(
                "rect",
                { x: left + position * barWidth, y: y(day[bars.key]), width: barWidth, height: y(0) - y(day[bars.key]), fill: bars.color },
                s("title", {}, `${day.day} · ${t(`series.${bars.key}`)}: ${formatNumber(day[bars.key])}`),
              )
            : null,
        ),
        labelled ? s("text", { x: left + slot * 0.4, y: y(0) + 18, "text-anchor": "middle" }, shortDay(day.day)) : null,
      );
    });
    const totals = series
      .map((bars) => `${t(`series.${bars.key}`)} ${formatNumber(days.reduce((sum, day) => sum + day[bars.key], 0))}`)
      .join(", ");
    const svg = accessibleSvg(
      "trend",
      t("chart.trend"),
      `${t("chart.trendDesc", { from: days[0].day, to: days[days.length - 1].day })} ${totals}.`,
      width,
      height,
      grid,
      groups,
      s("line", { x1: margin.left, x2: width - margin.right, y1: y(0), y2: y(0), class: "axis" }),
      s("text", { x: margin.left + plotWidth / 2, y: height - 6, "text-anchor": "middle", class: "axis-label" }, t("axis.day")),
      s(
        "text",
        { x: 14, y: margin.top + plotHeight / 2, "text-anchor": "middle", class: "axis-label", transform: `rotate(-90 14 ${margin.top + plotHeight / 2})` },
        t("axis.messages"),
      ),
    );
    const legend = h(
      "ul",
      { className: "legend" },
      series.map((bars) => h("li", {}, h("span", { className: "swatch", style: `background:${bars.color}` }), t(`series.${bars.key}`))),
    );
    return h("div", {}, svg, legend);
  }

  function barChart(id, title, rows, axisLabel, color, share = false) {
    if (!rows.length) return h("p", { className: "muted empty-chart" }, t("chart.empty"));
    const width = 520;
    const rowHeight = 26;
    const margin = { left: 168, right: 78, top: 8, bottom: 44 };
    const plotWidth = width - margin.left - margin.right;
    const height = margin.top + rows.length * rowHeight + margin.bottom;
    const max = Math.max(...rows.map((row) => row.value));
    const xTicks = share ? ticks(Math.min(1, max || 1), 4).filter((v) => v <= 1) : ticks(max, 4);
    const top = xTicks[xTicks.length - 1] || 1;
    const x = (value) => margin.left + (value / top) * plotWidth;
    const bottom = margin.top + rows.length * rowHeight;
    const truncate = (text) => (text.length > 22 ? `${text.slice(0, 21)}…` : text);
    const svg = accessibleSvg(
      `bars-${id}`,
      title,
      t("chart.barsDesc", { title, values: rows.map((row) => `${row.label} ${row.text}`).join(", ") }),
      width,
      height,
      xTicks.map((value) =>
        s("g", { class: "tick" }, s("line", { x1: x(value), x2: x(value), y1: margin.top, y2: bottom, class: "grid" }), s("text", { x: x(value), y: bottom + 16, "text-anchor": "middle" }, share ? formatPercent(value, 0) : formatNumber(value))),
      ),
      rows.map((row, index) => {
        const yTop = margin.top + index * rowHeight;
        return s(
          "g",
          { class: "bar" },
          s("title", {}, `${row.label}: ${row.text}`),
          s("text", { x: margin.left - 8, y: yTop + rowHeight / 2 + 4, "text-anchor": "end", class: "bar-label" }, truncate(row.label)),
          s("rect", { x: margin.left, y: yTop + 4, width: Math.max(1, x(row.value) - margin.left), height: rowHeight - 8, rx: 3, fill: color }),
          s("text", { x: x(row.value) + 6, y: yTop + rowHeight / 2 + 4, class: "bar-value" }, row.text),
        );
      }),
      s("line", { x1: margin.left, x2: margin.left, y1: margin.top, y2: bottom, class: "axis" }),
      s("text", { x: margin.left + plotWidth / 2, y: height - 6, "text-anchor": "middle", class: "axis-label" }, axisLabel),
    );
    return svg;
  }

  // ---- unmet needs --------------------------------------------------------------------------------------------

  async function loadUnmet() {
    const load = ++state.loads.unmet;
    if (!state.unmet) replace($("unmet-body"), h("p", { className: "muted loading" }, t("loading")));
    try {
      const needs = await api("/unmet-needs?min_size=2");
      if (load !== state.loads.unmet) return;
      state.unmet = needs;
    } catch (error) {
      if (load === state.loads.unmet) announceError(error);
      return;
    }
    renderUnmet();
  }

  function renderUnmet() {
    const { considered, clusters } = state.unmet;
    $("unmet-summary").textContent = t(plural("unmet.summary", clusters.length), { clusters: formatNumber(clusters.length), considered: formatNumber(considered) });
    replace(
      $("unmet-body"),
      clusters.length ? h("div", { className: "clusters" }, clusters.map(clusterCard)) : h("p", { className: "empty" }, t("unmet.none")),
    );
  }

  function clusterCard(cluster, index) {
    const id = `cluster-${cluster.id}`;
    const input = h("input", {
      id: `${id}-name`,
      type: "text",
      list: "proposed-intents",
      autocomplete: "off",
      spellcheck: false,
      placeholder: t("placeholder.intentName"),
      required: true,
      "aria-describedby": `${id}-hint`,
    });
    const button = h("button", { type: "submit", className: "primary" }, t("unmet.create"));
    const form = h(
      "form",
      {
        className: "cluster-form",
        onsubmit: async (event) => {
          event.preventDefault();
          const name = input.value.trim();
          const problem = newIntentProblem(name);
          if (problem) {
            input.setAttribute("aria-invalid", "true");
            input.focus();
            return announce(problem, "error");
          }
          input.removeAttribute("aria-invalid");
          button.disabled = true; // one click, one request
          const done = await act(cluster.item_ids, "new_intent", { intent: name }, { asBulk: true });
          button.disabled = false;
          if (done) loadUnmet();
        },
      },
      h("label", { for: input.id }, t("unmet.name")),
      h("div", { className: "joined" }, input, button),
      h("p", { className: "hint", id: `${id}-hint` }, t("error.intentName")),
    );
    const locales = Object.entries(cluster.locales).map(([locale, count]) =>
      h("span", { className: "locale-count" }, localeBadge(locale), formatNumber(count)),
    );
    return h(
      "article",
      { className: "card cluster", "aria-labelledby": `${id}-title`, dataset: { clusterId: cluster.id } },
      h(
        "header",
        { className: "cluster-head" },
        h("h2", { id: `${id}-title` }, t("unmet.cluster", { n: index + 1 })),
        badge(t("unmet.size", { count: formatNumber(cluster.size) }), "size"),
        h("span", { className: "locales" }, locales),
        h("span", { className: "muted small" }, t("unmet.oos", { share: formatPercent(cluster.out_of_scope_share, 0) })),
      ),
      cluster.terms.length
        ? h("div", { className: "terms" }, h("span", { className: "visually-hidden" }, `${t("unmet.terms")}: `), cluster.terms.map((term) => h("span", { className: "term" }, term)))
        : null,
      h("h3", { className: "small-heading" }, t("unmet.examples")),
      h("ul", { className: "examples" }, cluster.examples.map((text) => h("li", {}, text))),
      form,
    );
  }

  // ---- keyboard -----------------------------------------------------------------------------------------------

  const SHORTCUTS = [
    ["j / k", "help.jk"],
    ["Enter", "help.enter"],
    ["x", "help.x"],
    ["c", "help.c"],
    ["y", "help.y"],
    ["o", "help.o"],
    ["e", "help.e"],
    ["n", "help.n"],
    ["a", "help.a"],
    ["Esc", "help.esc"],
    ["g q", "help.gq"],
    ["g a", "help.ga"],
    ["g u", "help.gu"],
    ["/", "help.slash"],
    ["?", "help.help"],
  ];

  function fillHelp() {
    replace(
      $("help-list"),
      SHORTCUTS.map(([keys, text]) =>
        h(
          "div",
          { className: "shortcut" },
          h("dt", {}, keys.split(" ").map((key, index) => [index ? " " : null, key === "/" && keys !== "/" ? "/" : h("kbd", {}, key)])),
          h("dd", {}, t(text)),
        ),
      ),
    );
  }

  function isTyping(target) {
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable || target.closest("select, textarea")) return true;
    return target.tagName === "INPUT" && !["checkbox", "radio", "button", "submit", "reset"].includes(target.type);
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if ($("help").open) return; // the dialog handles Esc itself
    if (isTyping(event.target)) {
      if (event.key === "Escape" && event.target.tagName !== "SELECT") event.target.blur();
      return;
    }
    const key = event.key;
    if (Date.now() - state.gPressedAt < G_PREFIX_MS) {
      state.gPressedAt = 0;
      const to = { q: state.queueHash, a: "#/analytics", u: "#/unmet" }[key];
      if (to) {
        event.preventDefault();
        location.hash = to;
      }
      return;
    }
    const handled = key === "?" ? openHelp() : key === "g" ? (state.gPressedAt = Date.now()) : viewKey(key, event);
    if (handled) event.preventDefault();
  }

  function openHelp() {
    $("help").showModal();
    return true;
  }

  /** A shortcut for the current view; true when it did something. */
  function viewKey(key, event) {
    if (key === "/" && state.view === "queue") {
      $("f-q").focus();
      return true;
    }
    if (state.view === "queue") return queueKey(key, event);
    if (state.view === "item") return itemKey(key);
    if (key === "Escape" && state.view !== "queue") {
      backToQueue();
      return true;
    }
    return false;
  }

  function queueKey(key, event) {
    const items = state.queue ? state.queue.items : [];
    const item = currentQueueItem();
    switch (key) {
      case "j":
      case "k":
        if (!items.length) return false;
        state.cursor = Math.max(0, Math.min(items.length - 1, state.cursor + (key === "j" ? 1 : -1)));
        markCursor(true);
        return true;
      case "Enter":
        if (!item || event.target.closest("a, button")) return false;
        location.hash = `#/item/${item.id}`;
        return true;
      case "x":
        if (!item) return false;
        if (state.selected.has(item.id)) state.selected.delete(item.id);
        else state.selected.add(item.id);
        renderSelection();
        return true;
      case "c":
        bulk(state.selected.size ? "claim" : claimToggle(item));
        return Boolean(item);
      case "y":
        bulk("confirm");
        return Boolean(item);
      case "o":
        bulk("out_of_scope");
        return Boolean(item);
      case "e":
      case "n":
      case "a":
        if (!item) return false;
        state.pendingFocus = { e: "correct", n: "new-intent", a: "article" }[key];
        location.hash = `#/item/${item.id}`;
        return true;
      case "Escape":
        if (!state.selected.size) return false;
        state.selected.clear();
        renderSelection();
        return true;
      default:
        return false;
    }
  }

  function itemKey(key) {
    if (!state.detail) return key === "Escape" ? (backToQueue(), true) : false;
    const item = state.detail.item;
    switch (key) {
      case "Escape":
        backToQueue();
        return true;
      case "j":
      case "k":
        stepItem(key === "j" ? 1 : -1);
        return true;
      case "c":
        if (item.status === "done") return false;
        detailAction(claimToggle(item));
        return true;
      case "y":
        detailAction("confirm");
        return true;
      case "o":
        detailAction("out_of_scope");
        return true;
      case "e":
        $("item-correct").focus();
        return true;
      case "n":
        $("item-new-intent").focus();
        return true;
      case "a":
        $("item-article").focus();
        return true;
      default:
        return false;
    }
  }

  // ---- start --------------------------------------------------------------------------------------------------

  function rerender() {
    applyStaticText();
    fillDayOptions();
    fillHelp();
    fillIntentFilters();
    renderReviewer();
    if (state.view === "queue") renderQueue();
    else if (state.view === "item" && state.detail) renderItem();
    else if (state.view === "analytics" && state.analytics) renderAnalytics();
    else if (state.view === "unmet" && state.unmet) renderUnmet();
  }

  function renderReviewer() {
    if (!state.me) return;
    const role = has(`role.${state.me.role}`) ? t(`role.${state.me.role}`) : state.me.role;
    const reviewer = $("reviewer");
    reviewer.title = t("account.signedIn", { name: state.me.reviewer });
    replace(reviewer, h("strong", {}, state.me.reviewer), badge(role, "role"));
  }

  async function startReview() {
    applyStaticText();
    fillDayOptions();
    fillHelp();
    setupQueue();
    $("lang-toggle").addEventListener("click", () => {
      setLanguage(lang === "ko" ? "en" : "ko");
      rerender();
    });
    $("help-button").addEventListener("click", openHelp);
    $("sign-out").addEventListener("click", async () => {
      try {
        await api("/session", { method: "DELETE" });
      } catch (error) {
        announceError(error);
        return;
      }
      location.assign(loginUrl());
    });
    $("analytics-days").addEventListener("change", loadAnalytics);
    document.addEventListener("keydown", onKey);
    try {
      [state.me, state.catalog] = await Promise.all([api("/me"), api("/catalog")]);
    } catch (error) {
      announceError(error);
      return;
    }
    renderReviewer();
    fillProposedIntents();
    window.addEventListener("hashchange", route);
    route();
  }

  if (document.body.dataset.page === "login") startLogin();
  else startReview();
})();
