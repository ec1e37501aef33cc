/*
 * Deflect chat widget: help-center articles while the customer types, answers, feedback, and handoff to a person.
 *
 * Embed it with one script tag, served by the Deflect API it talks to:
 *
 *   <script src="https://support.example.com/widget.js" data-key="dfw_…" async></script>
 *
 * Options, as data- attributes of that tag:
 *   data-key                a widget API key (deflect keys create --role widget)
 *   data-locale             "ko" or "en"; default: the page's <html lang>, else the browser's language
 *   data-title              the panel's title
 *   data-primary-color      launcher, header and buttons (any CSS colour)
 *   data-primary-text-color text on the primary colour
 *   data-position           "right" (default) or "left"
 *
 * Events, CustomEvents dispatched on window, so a site can pass the customer to the live chat it already runs:
 *   deflect:feedback  detail {conversationId, suggestionId, articleId, feedback, handoffNext}
 *   deflect:handoff   detail {conversationId, reasonCode, route, package}; package is what the agent receives
 *                     (GET /v1/conversations/{id}/handoff), or null if it could not be fetched
 *
 * window.DeflectWidget.open() and .close() open and close the panel from the page's own links.
 */
(() => {
  "use strict";

  const script = document.currentScript;
  if (!script || window.DeflectWidget) return; // embedded twice: the first one stays

  const TYPEAHEAD_DELAY_MS = 250;
  const REQUEST_TIMEOUT_MS = 15000;
  const CONVERSATION_STORAGE_KEY = "deflect:conversation";

  const TEXT = {
    ko: {
      launcher: "문의하기",
      title: "고객센터",
      close: "닫기",
      welcome: "안녕하세요! 궁금한 점을 입력해 주세요. 입력하는 동안 도움이 될 만한 글을 찾아 드려요.",
      inputLabel: "질문 입력",
      placeholder: "예: 택배가 어디에 있나요?",
      send: "보내기",
      person: "상담원과 대화하기",
      personRequest: "상담원 연결해 주세요",
      you: "나:",
      assistant: "도우미:",
      typeaheadLabel: "입력 중인 질문에 맞는 도움말",
      found: (count) => `도움말 ${count}개를 찾았어요.`,
      articlesIntro: "이 도움말이 도움이 될 것 같아요.",
      noArticles: "맞는 도움말을 찾지 못했어요. 다르게 물어보시거나 상담원과 대화해 보세요.",
      helped: "도움이 되었나요?",
      yes: "네",
      no: "아니요",
      thanks: "알려 주셔서 감사합니다!",
      sorry: "도움이 되지 못해 죄송해요.",
      handoffNext: "다음 메시지부터는 상담원이 이어받아 답해 드려요.",
      connecting: {
        person_requested: "상담원에게 연결해 드릴게요.",
        frustrated: "불편을 드려 죄송합니다. 상담원에게 바로 연결해 드릴게요.",
        repeated_unhelpful: "도움말로 해결되지 않아 상담원에게 연결해 드릴게요.",
        default: "이 문의는 상담원이 직접 도와드릴게요.",
      },
      handoffTitle: "상담원이 받게 될 내용",
      handoffIntro: "같은 이야기를 다시 하실 필요 없도록 지금까지의 대화를 함께 전달해요.",
      topic: "문의 내용",
      team: "담당",
      priority: "우선순위",
      priorities: { normal: "보통", high: "높음", urgent: "긴급" },
      yourMessages: "보내신 메시지 (개인정보는 가려서 전달돼요)",
      articlesShown: "보여 드린 도움말",
      feedbackNames: { helpful: "도움됨", not_helpful: "도움 안 됨", resolved: "해결됨", escalated: "상담 요청" },
      agentNote: "상담원용 요약",
      errors: {
        key: "채팅 설정에 문제가 있어 지금은 답변할 수 없어요. 고객센터로 연락해 주세요.",
        busy: "요청이 많아요. 잠시 후 다시 시도해 주세요.",
        invalid: "메시지를 보낼 수 없어요. 조금 짧게 다시 써 주세요.",
        offline: "지금은 연결할 수 없어요. 잠시 후 다시 시도해 주세요.",
      },
    },
    en: {
      launcher: "Help",
      title: "Help center",
      close: "Close",
      welcome: "Hi! Ask us anything. We look for articles that may help while you type.",
      inputLabel: "Your question",
      placeholder: "e.g. Where is my parcel?",
      send: "Send",
      person: "Talk to a person",
      personRequest: "I'd like to talk to a person",
      you: "You:",
      assistant: "Assistant:",
      typeaheadLabel: "Articles for what you are typing",
      found: (count) => (count === 1 ? "Found 1 article." : `Found ${count} articles.`),
      articlesIntro: "These articles may help.",
      noArticles: "We couldn't find a matching article. Try other words, or talk to a person.",
      helped: "Did this help?",
      yes: "Yes",
      no: "No",
      thanks: "Thanks for letting us know!",
      sorry: "Sorry that didn't help.",
      handoffNext: "Your next message goes to a person, who will take it from here.",
      connecting: {
        person_requested: "Connecting you to a person.",
        frustrated: "Sorry about the trouble. Connecting you to a person right away.",
        repeated_unhelpful: "The articles didn't solve it, so a person will take over.",
        default: "A person will help you with this one.",
      },
      handoffTitle: "What the agent will receive",
      handoffIntro: "So you don't have to repeat yourself, the conversation so far goes with you.",
      topic: "Topic",
      team: "Team",
      priority: "Priority",
      priorities: { normal: "normal", high: "high", urgent: "urgent" },
      yourMessages: "Your messages (personal details are hidden)",
      articlesShown: "Articles you were shown",
      feedbackNames: { helpful: "helped", not_helpful: "didn't help", resolved: "resolved", escalated: "escalated" },
      agentNote: "Summary for the agent",
      errors: {
        key: "The chat isn't set up correctly, so it can't answer right now. Please contact us another way.",
        busy: "We're getting a lot of messages. Please try again in a moment.",
        invalid: "That message couldn't be sent. Please try a shorter one.",
        offline: "We can't connect right now. Please try again in a moment.",
      },
    },
  };

  const options = readOptions(script);
  const text = TEXT[options.locale];

  function readOptions(tag) {
    const data = tag.dataset;
    const locale = supportedLocale([data.locale, document.documentElement.lang, ...(navigator.languages || [])]);
    return {
      key: data.key || "",
      base: new URL(".", tag.src), // the API serves this script, so its routes sit beside it
      locale,
      title: data.title || TEXT[locale].title,
      primaryColor: cssColor(data.primaryColor, "#1f6feb"),
      primaryTextColor: cssColor(data.primaryTextColor, "#ffffff"),
      position: data.position === "left" ? "left" : "right",
    };
  }

  function supportedLocale(candidates) {
    for (const candidate of candidates) {
      const language = String(candidate || "").trim().slice(0, 2).toLowerCase();
      if (language === "ko" || language === "en") return language;
    }
    return "en";
  }

  function cssColor(value, fallback) {
    return value && window.CSS && CSS.supports("color", value) ? value : fallback;
  }

  if (!options.key) console.warn("Deflect widget: no data-key on the script tag; the API will refuse its requests.");

  // ---- talking to the API ---------------------------------------------------------------------------------------

  /** Never throws: {ok, status, body}, with status 0 for network errors, timeouts and aborted requests. */
  async function call(method, path, body, callerSignal, extraHeaders) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    if (callerSignal) callerSignal.addEventListener("abort", () => controller.abort(), { once: true });
    const headers = { accept: "application/json", ...extraHeaders };
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    try {
      const response = await fetch(new URL(path, options.base), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        credentials: "omit",
      });
      let payload = null;
      try {
        payload = await response.json();
      } catch (error) {
        // not JSON: a proxy's error page; the status says enough
      }
      return { ok: response.ok && payload !== null, status: response.status, body: payload };
    } catch (error) {
      return { ok: false, status: 0, body: null };
    } finally {
      clearTimeout(timer);
    }
  }

  function problem(result) {
    if (result.status === 401 || result.status === 403) return text.errors.key;
    if (result.status === 429) return text.errors.busy;
    if (result.status === 413 || result.status === 422) return text.errors.invalid;
    return text.errors.offline;
  }

  function emit(name, detail) {
    window.dispatchEvent(new CustomEvent(name, { detail }));
  }

  /** {id, token}: the server names the conversation and signs it for this key; the token is what lets this
   * browser, and no other visitor of the site, continue it. */
  function storedConversation() {
    try {
      const stored = JSON.parse(sessionStorage.getItem(CONVERSATION_STORAGE_KEY));
      return stored && typeof stored.id === "string" && typeof stored.token === "string" ? stored : null;
    } catch (error) {
      return null; // storage blocked or an older widget's entry: a new conversation
    }
  }

  function storeConversation(conversation) {
    try {
      sessionStorage.setItem(CONVERSATION_STORAGE_KEY, JSON.stringify(conversation));
    } catch (error) {
      // storage blocked: keep it in memory only
    }
  }

  // ---- building the interface -----------------------------------------------------------------------------------

  /** An element; strings become text nodes, so nothing from the API is ever parsed as HTML. */
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
    return node;
  }

  function safeHref(url) {
    try {
      const parsed = new URL(url, location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (error) {
      return null;
    }
  }

  /** Text with its http(s) links made clickable. */
  function linkified(value) {
    const paragraph = el("p");
    let last = 0;
    for (const match of value.matchAll(/https?:\/\/[^\s<>"']+/g)) {
      const href = safeHref(match[0]);
      paragraph.append(value.slice(last, match.index));
      paragraph.append(href ? el("a", { href, target: "_blank", rel: "noopener" }, match[0]) : match[0]);
      last = match.index + match[0].length;
    }
    paragraph.append(value.slice(last));
    return paragraph;
  }

  const STYLE = `
    :host { all: initial; }
    * { box-sizing: border-box; }
    .frame { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "Apple SD Gothic Neo", "Malgun Gothic",
             "Nanum Gothic", "Noto Sans KR", sans-serif; color: #1d2433; }
    button { font: inherit; cursor: pointer; }
    button:focus-visible, a:focus-visible, input:focus-visible {
      outline: 3px solid var(--deflect-primary); outline-offset: 2px; }
    .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
               white-space: nowrap; }
    .launcher { position: fixed; bottom: 20px; z-index: 2147483000; display: flex; align-items: center; gap: 8px;
                padding: 12px 20px 12px 16px; border: 0; border-radius: 999px; font-weight: 700; font-size: 15px;
                background: var(--deflect-primary); color: var(--deflect-on-primary);
                box-shadow: 0 6px 20px rgba(15, 23, 42, 0.25); }
    .launcher svg { width: 22px; height: 22px; fill: currentColor; }
    .right .launcher, .right .panel { right: 20px; }
    .left .launcher, .left .panel { left: 20px; }
    .panel { position: fixed; bottom: 84px; z-index: 2147483000; width: min(380px, calc(100vw - 40px));
             height: min(600px, calc(100vh - 108px)); display: flex; flex-direction: column; overflow: hidden;
             background: #fff; border-radius: 16px; box-shadow: 0 12px 40px rgba(15, 23, 42, 0.28); }
    .panel[hidden] { display: none; }
    header { display: flex; align-items: center; justify-content: space-between; padding: 14px 16px;
             background: var(--deflect-primary); color: var(--deflect-on-primary); }
    h2 { margin: 0; font-size: 16px; font-weight: 700; }
    .close { border: 0; background: transparent; color: inherit; font-size: 22px; line-height: 1; padding: 4px 8px;
             border-radius: 8px; }
    .close:focus-visible { outline-color: var(--deflect-on-primary); outline-offset: -2px; }
    .log { flex: 1; overflow-y: auto; padding: 14px; display: flex; flex-direction: column; gap: 10px;
           background: #f6f8fb; }
    .message { max-width: 92%; padding: 9px 12px; border-radius: 12px; background: #fff;
               border: 1px solid #e3e8ef; overflow-wrap: anywhere; }
    .message p { margin: 0 0 6px; }
    .message p:last-child { margin-bottom: 0; }
    .message.customer { align-self: flex-end; background: var(--deflect-primary); color: var(--deflect-on-primary);
                        border-color: transparent; }
    .message.error { border-color: #f3b5b5; background: #fff4f4; color: #8a1f1f; }
    .message.pending { color: #6b7585; letter-spacing: 2px; }
    a { color: var(--deflect-primary); }
    .message.customer a { color: inherit; }
    ul.cards { list-style: none; margin: 6px 0 0; padding: 0; display: flex; flex-direction: column; gap: 8px; }
    .card { background: #fff; border: 1px solid #e3e8ef; border-radius: 10px; padding: 10px 12px; }
    .card .title { margin: 0 0 4px; font-weight: 700; }
    .card .title a { text-decoration: none; }
    .card .title a:hover { text-decoration: underline; }
    .card .snippet { margin: 0; color: #4b5565; font-size: 13px; display: -webkit-box; -webkit-line-clamp: 3;
                     -webkit-box-orient: vertical; overflow: hidden; }
    .feedback { display: flex; align-items: center; flex-wrap: wrap; gap: 6px; margin-top: 8px; font-size: 13px;
                color: #4b5565; }
    .vote { border: 1px solid #cfd6e0; background: #fff; color: #1d2433; border-radius: 999px; padding: 2px 12px; }
    .vote[aria-pressed="true"] { background: var(--deflect-primary); color: var(--deflect-on-primary);
                                 border-color: transparent; }
    .vote[aria-disabled="true"]:not([aria-pressed="true"]) { opacity: 0.5; cursor: default; }
    .options { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; }
    .option { border: 1px solid var(--deflect-primary); background: #fff; color: var(--deflect-primary);
              border-radius: 999px; padding: 5px 12px; font: inherit; font-size: 13px; text-align: start; }
    .option[aria-pressed="true"] { background: var(--deflect-primary); color: var(--deflect-on-primary); }
    .option[aria-disabled="true"]:not([aria-pressed="true"]) { opacity: 0.5; cursor: default; }
    .typeahead { border-top: 1px solid #e3e8ef; padding: 10px 14px; max-height: 45%; overflow-y: auto;
                 background: #fff; }
    .typeahead[hidden] { display: none; }
    .typeahead h3 { margin: 0 0 4px; font-size: 12px; font-weight: 600; color: #6b7585; }
    form { display: flex; gap: 8px; padding: 10px 14px 6px; border-top: 1px solid #e3e8ef; background: #fff; }
    input { flex: 1; min-width: 0; font: inherit; padding: 9px 12px; border: 1px solid #cfd6e0; border-radius: 10px;
            color: #1d2433; background: #fff; }
    .send { border: 0; border-radius: 10px; padding: 0 16px; font-weight: 700;
            background: var(--deflect-primary); color: var(--deflect-on-primary); }
    .send[aria-disabled="true"], .person[aria-disabled="true"] { opacity: 0.6; cursor: default; }
    .actions { padding: 0 14px 12px; background: #fff; }
    .person { width: 100%; border: 1px solid var(--deflect-primary); border-radius: 10px; padding: 7px;
              background: #fff; color: var(--deflect-primary); font-weight: 600; }
    .handoff { border-left: 4px solid var(--deflect-primary); }
    .handoff h3 { margin: 0 0 4px; font-size: 14px; }
    .handoff dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 8px 0; }
    .handoff dt { color: #6b7585; }
    .handoff dd { margin: 0; font-weight: 600; }
    .handoff h4 { margin: 8px 0 2px; font-size: 12px; color: #6b7585; font-weight: 600; }
    .handoff ol, .handoff ul { margin: 0; padding-left: 20px; }
    .handoff details { margin-top: 8px; font-size: 12px; color: #4b5565; }
  `;

  const CHAT_ICON =
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 ' +
    '2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6a1.3 1.3 0 1 0 0 2.6A1.3 1.3 0 0 0 7 10zm5 0a1.3 1.3 0 1 0 0 ' +
    '2.6 1.3 1.3 0 0 0 0-2.6zm5 0a1.3 1.3 0 1 0 0 2.6 1.3 1.3 0 0 0 0-2.6z"/></svg>';

  const host = el("div", { id: "deflect-widget", lang: options.locale });
  host.style.setProperty("--deflect-primary", options.primaryColor);
  host.style.setProperty("--deflect-on-primary", options.primaryTextColor);
  const root = host.attachShadow({ mode: "open" }); // open: a page's own tests and tools can reach inside

  const launcher = el(
    "button",
    {
      class: "launcher",
      type: "button",
      "aria-haspopup": "dialog",
      "aria-expanded": "false",
      "aria-controls": "deflect-panel",
      onclick: () => (panel.hidden ? open() : close()),
    },
    el("span", { class: "label" }, text.launcher),
  );
  launcher.insertAdjacentHTML("afterbegin", CHAT_ICON); // a constant of this file, never API data

  const log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": options.title });
  const suggestionStatus = el("p", { class: "sr-only", role: "status" });
  const typeaheadCards = el("ul", { class: "cards" });
  const typeahead = el(
    "section",
    { class: "typeahead", "aria-labelledby": "deflect-typeahead-title", hidden: true },
    el("h3", { id: "deflect-typeahead-title" }, text.typeaheadLabel),
    typeaheadCards,
  );
  const input = el("input", {
    id: "deflect-input",
    type: "text",
    autocomplete: "off",
    maxlength: 2000,
    enterkeyhint: "send",
    placeholder: text.placeholder,
  });
  const sendButton = el("button", { class: "send", type: "submit" }, text.send);
  const form = el(
    "form",
    { onsubmit: onSubmit },
    el("label", { class: "sr-only", for: "deflect-input" }, text.inputLabel),
    input,
    sendButton,
  );
  const personButton = el(
    "button",
    { class: "person", type: "button", onclick: () => ask(text.personRequest) },
    text.person,
  );
  const panel = el(
    "div",
    {
      id: "deflect-panel",
      class: "panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": "deflect-title",
      hidden: true,
    },
    el(
      "header",
      {},
      el("h2", { id: "deflect-title" }, options.title),
      el("button", { class: "close", type: "button", "aria-label": text.close, onclick: close }, "×"),
    ),
    log,
    suggestionStatus,
    typeahead,
    form,
    el("div", { class: "actions" }, personButton),
  );
  const frame = el("div", { class: `frame ${options.position}`, onkeydown: closeOnEscape }, panel, launcher);
  if ("adoptedStyleSheets" in ShadowRoot.prototype && "replaceSync" in CSSStyleSheet.prototype) {
    // A stylesheet object rather than a <style> element: pages whose Content-Security-Policy forbids inline
    // styles still style the widget.
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.append(el("style", {}, STYLE));
  }
  root.append(frame);

  // ---- opening and closing --------------------------------------------------------------------------------------

  let greeted = false;

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    if (!greeted) {
      greeted = true;
      say("bot", text.welcome);
    }
    input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  function closeOnEscape(event) {
    if (event.key !== "Escape" || panel.hidden) return;
    event.stopPropagation(); // this Escape was for the widget, not for the page's own menus or modals
    close();
  }

  // ---- the conversation -----------------------------------------------------------------------------------------

  let conversation = storedConversation();

  function continuing(current) {
    return current ? { conversation_id: current.id, conversation_token: current.token } : {};
  }
  let busy = false;
  let openOptions = []; // the buttons of the clarifying question still waiting for an answer

  function say(role, ...content) {
    const speaker = role === "customer" ? text.you : text.assistant;
    const paragraphs = content.map((part) => (typeof part === "string" ? el("p", {}, part) : part));
    const message = el("div", { class: `message ${role}` }, el("span", { class: "sr-only" }, speaker), ...paragraphs);
    log.append(message);
    log.scrollTop = log.scrollHeight;
    return message;
  }

  function setBusy(value) {
    busy = value;
    // aria-disabled, not disabled: a disabled button drops the keyboard focus of whoever just pressed it
    sendButton.setAttribute("aria-disabled", String(value));
    personButton.setAttribute("aria-disabled", String(value));
  }

  function onSubmit(event) {
    event.preventDefault();
    sendTyped();
  }

  function sendTyped() {
    const question = input.value.trim();
    if (!question || busy) return;
    input.value = "";
    clearTypeahead();
    ask(question);
  }

  /** Sends a customer message; shows the answer, the articles, a clarifying question or the handoff. `rated` is a
   * typeahead card the customer gave feedback on: it stands for the answer, so the reply's own articles are not
   * repeated. `choice` is the option of a clarifying question the customer pressed (`question` is its label). */
  async function ask(question, rated, choice) {
    if (busy) return null;
    setBusy(true);
    for (const button of openOptions) button.setAttribute("aria-disabled", "true"); // the question is answered
    openOptions = [];
    say("customer", question);
    const pending = say("pending", "…");
    pending.setAttribute("aria-hidden", "true");
    const message = {
      text: question,
      channel: "web",
      page_url: location.origin + location.pathname, // not the query string: it can carry tokens or e-mails
    };
    if (choice) message.choice = choice;
    let result = await call("POST", "v1/suggest", { ...message, ...continuing(conversation) });
    if (result.status === 403 && conversation && !choice) {
      // the conversation is no longer this browser's to continue (the site's key changed): start a new one
      conversation = null;
      result = await call("POST", "v1/suggest", message);
    }
    pending.remove();
    try {
      if (!result.ok) {
        say("error", problem(result));
        return null;
      }
      const reply = result.body;
      conversation = { id: reply.conversation_id, token: reply.conversation_token };
      storeConversation(conversation);
      if (reply.decision === "handoff") {
        await handOff(reply);
      } else if (reply.decision === "clarify") {
        showQuestion(reply);
      } else if (rated) {
        say("bot", cardList([rated.article], reply.suggestion_id, rated.feedback));
      } else {
        showReply(reply);
      }
      return reply;
    } finally {
      setBusy(false);
    }
  }

  function showReply(reply) {
    const content = [];
    if (reply.answer) content.push(linkified(reply.answer.text));
    else content.push(reply.articles.length ? text.articlesIntro : text.noArticles);
    if (reply.articles.length) content.push(cardList(reply.articles, reply.suggestion_id));
    say("bot", ...content);
  }

  /** The bot's question with its options as buttons (the log's live region reads the question out); pressing one
   * sends it as the customer's choice, and typing a reply instead works as well. */
  function showQuestion(reply) {
    const { question, options } = reply.clarification;
    const buttons = options.map((option) =>
      el("button", { class: "option", type: "button", "aria-pressed": "false" }, option.label),
    );
    const group = el("div", { class: "options", role: "group", "aria-label": question }, ...buttons);
    buttons.forEach((button, index) => {
      const option = options[index];
      button.addEventListener("click", () => {
        if (busy || button.getAttribute("aria-disabled") === "true") return;
        button.setAttribute("aria-pressed", "true");
        const choice = { suggestion_id: reply.suggestion_id, kind: option.kind };
        if (option.intent) choice.intent = option.intent;
        ask(option.label, null, choice);
      });
    });
    openOptions = buttons;
    say("bot", question, group);
  }

  function cardList(articles, suggestionId, chosen) {
    return el("ul", { class: "cards" }, ...articles.map((article) => articleCard(article, suggestionId, chosen)));
  }

  /** A card with feedback buttons. Typeahead cards have no suggestion yet (null): rating one first sends the
   * question, so the feedback belongs to a suggestion and the agent later sees both. */
  function articleCard(article, suggestionId, chosen) {
    const href = safeHref(article.url);
    const title = href ? el("a", { href, target: "_blank", rel: "noopener" }, article.title) : article.title;
    const question = el("span", {}, text.helped);
    const votes = [
      ["helpful", text.yes],
      ["not_helpful", text.no],
    ].map(([feedback, label]) =>
      el("button", { class: "vote", type: "button", "data-feedback": feedback, "aria-pressed": "false" }, label),
    );
    const outcome = el("span", { class: "outcome" });
    const group = el("div", { class: "feedback", role: "group" }, question, ...votes, outcome);
    group.setAttribute("aria-label", `${text.helped} ${article.title}`);
    const settle = (button, ok) => {
      for (const vote of votes) vote.setAttribute("aria-disabled", String(ok));
      button.setAttribute("aria-pressed", String(ok));
      if (ok) outcome.textContent = button.dataset.feedback === "helpful" ? text.thanks : text.sorry;
    };
    const choose = async (button) => {
      if (button.getAttribute("aria-disabled") === "true") return;
      const feedback = button.dataset.feedback;
      if (suggestionId === null) {
        rateTypeaheadArticle(article, feedback);
        return;
      }
      settle(button, true); // at once: a second click must not send twice
      settle(button, await sendFeedback(suggestionId, article.id, feedback));
    };
    for (const button of votes) button.addEventListener("click", () => choose(button));
    if (chosen) choose(votes.find((vote) => vote.dataset.feedback === chosen));
    return el(
      "li",
      { class: "card" },
      el("p", { class: "title" }, title),
      el("p", { class: "snippet" }, article.snippet),
      group,
    );
  }

  async function sendFeedback(suggestionId, articleId, feedback) {
    const result = await call("POST", "v1/feedback", {
      suggestion_id: suggestionId,
      feedback,
      article_id: articleId,
      conversation_token: conversation ? conversation.token : undefined,
    });
    if (!result.ok) {
      say("error", problem(result));
      return false;
    }
    const answer = result.body;
    emit("deflect:feedback", {
      conversationId: answer.conversation_id,
      suggestionId,
      articleId,
      feedback,
      handoffNext: answer.handoff_next,
    });
    if (answer.handoff_next) say("bot", text.handoffNext);
    return true;
  }

  // ---- handoff --------------------------------------------------------------------------------------------------

  async function handOff(reply) {
    say("bot", text.connecting[reply.reason_code] || text.connecting.default);
    const path = `v1/conversations/${encodeURIComponent(reply.conversation_id)}/handoff`;
    const result = await call("GET", path, undefined, undefined, { "x-conversation-token": reply.conversation_token });
    if (result.ok) say("bot handoff", handoffSummary(result.body, reply.reason_code));
    else say("error", problem(result));
    emit("deflect:handoff", {
      conversationId: reply.conversation_id,
      reasonCode: reply.reason_code,
      route: reply.handoff,
      package: result.ok ? result.body : null,
    });
  }

  function handoffSummary(pack, reasonCode) {
    let asked = pack.intent_history;
    // "I'd like to talk to a person" is how the customer asked for help, not what they need help with
    if (reasonCode === "person_requested" && asked.length > 1) asked = asked.slice(0, -1);
    const topics = [...new Set(asked.map((intent) => intent.name))];
    const messages = pack.transcript.filter((turn) => turn.role === "customer");
    const articles = pack.articles_shown.map((article) =>
      el(
        "li",
        {},
        article.title,
        article.feedback.length
          ? ` (${article.feedback.map((name) => text.feedbackNames[name] || name).join(", ")})`
          : "",
      ),
    );
    return el(
      "div",
      {},
      el("h3", {}, text.handoffTitle),
      el("p", {}, text.handoffIntro),
      el(
        "dl",
        {},
        el("dt", {}, text.topic),
        el("dd", {}, topics.join(", ") || "—"),
        el("dt", {}, text.team),
        el("dd", {}, pack.route.team),
        el("dt", {}, text.priority),
        el("dd", {}, text.priorities[pack.route.priority] || pack.route.priority),
      ),
      el("h4", {}, text.yourMessages),
      el("ol", {}, ...messages.map((turn) => el("li", {}, turn.text))),
      articles.length ? el("h4", {}, text.articlesShown) : null,
      articles.length ? el("ul", {}, ...articles) : null,
      el("details", {}, el("summary", {}, text.agentNote), el("p", {}, pack.summary)),
    );
  }

  // ---- suggestions while typing ---------------------------------------------------------------------------------

  let composing = false; // an IME is composing a syllable (Hangul): its text is not what the customer means yet
  let submitAfterComposition = false;
  let typeaheadTimer = null;
  let typeaheadRequest = null; // {text, controller} of the request in flight
  let typeaheadText = ""; // the text the shown suggestions are for

  function scheduleTypeahead() {
    clearTimeout(typeaheadTimer);
    typeaheadTimer = setTimeout(runTypeahead, TYPEAHEAD_DELAY_MS);
  }

  function cancelTypeahead() {
    clearTimeout(typeaheadTimer);
    if (typeaheadRequest) typeaheadRequest.controller.abort();
    typeaheadRequest = null;
  }

  async function runTypeahead() {
    if (composing) return; // compositionend schedules it again
    const partial = input.value.trim();
    if (partial === typeaheadText || (typeaheadRequest && partial === typeaheadRequest.text)) return;
    cancelTypeahead();
    if (!partial) {
      clearTypeahead();
      return;
    }
    const request = { text: partial, controller: new AbortController() };
    typeaheadRequest = request;
    const result = await call("POST", "v1/suggest/typeahead", { text: partial }, request.controller.signal);
    if (request.controller.signal.aborted) return; // the customer typed on: a newer request answers
    typeaheadRequest = null;
    if (!result.ok) return; // suggestions are a bonus: a failure here must not interrupt typing
    typeaheadText = partial;
    showTypeahead(result.body.articles);
  }

  function showTypeahead(articles) {
    typeaheadCards.replaceChildren(...articles.map((article) => articleCard(article, null)));
    typeahead.hidden = articles.length === 0;
    suggestionStatus.textContent = articles.length ? text.found(articles.length) : "";
  }

  function clearTypeahead() {
    cancelTypeahead();
    typeaheadText = "";
    showTypeahead([]);
  }

  async function rateTypeaheadArticle(article, feedback) {
    const question = typeaheadText;
    if (!question || busy) return;
    input.value = "";
    clearTypeahead();
    input.focus(); // the card and its buttons are gone
    await ask(question, { article, feedback });
  }

  input.addEventListener("compositionstart", () => {
    composing = true;
    cancelTypeahead();
  });
  input.addEventListener("compositionend", () => {
    composing = false;
    if (submitAfterComposition) {
      submitAfterComposition = false;
      setTimeout(sendTyped, 0);
    } else {
      scheduleTypeahead();
    }
  });
  input.addEventListener("input", (event) => {
    if (composing || event.isComposing) return;
    scheduleTypeahead();
  });
  input.addEventListener("keydown", (event) => {
    // Enter that commits the last Hangul syllable: send once the syllable is in the text, not before.
    if (event.key === "Enter" && (composing || event.isComposing || event.keyCode === 229)) {
      event.preventDefault();
      submitAfterComposition = true;
    }
  });

  // ---- start ----------------------------------------------------------------------------------------------------

  window.DeflectWidget = { open, close };
  const mount = () => document.body.append(host);
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
})();
