/** The item view's read-only cards: the message and its prediction, the conversation, the label history. */
import { articleById, intentName } from "./catalog.js";
import { h } from "./dom.js";
import { formatPercent, formatTime, t } from "./i18n.js";
import { badge, confidenceMeter, localeBadge } from "./widgets.js";

export function card(title, id, ...children) {
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

export function messageCard(item) {
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

export function conversationCard(item, conversation) {
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
            turn.chosen_from ? badge(t("item.customerChose"), "label-customer_choice") : null,
            turn.feedback.map((feedback) => badge(t(`feedback.${feedback}`), `feedback-${feedback}`)),
          ),
          turn.articles.length
            ? h("div", { className: "turn-articles small muted" }, turn.articles.map((id) => (articleById(id) || { title: id }).title).join(" · "))
            : null,
          turn.clarification ? clarifyStep(turn, conversation, item.locale) : null,
        );
      }),
    ),
  );
}

// The question a clarify turn asked and its options; the one the customer picked (in a later turn) is marked.
function clarifyStep(turn, conversation, locale) {
  const answer = conversation.find((later) => later.chosen_from === turn.suggestion_id);
  const pickedKind = answer ? CHOSEN_KIND[answer.reason_code] || "intent" : null;
  const picked = (option) => option.kind === pickedKind && (pickedKind !== "intent" || option.intent === answer.intent);
  return h(
    "div",
    { className: "turn-question", role: "group", "aria-label": t("item.question") },
    h("p", { className: "small" }, h("strong", {}, `${t(`clarify.${turn.clarification.step}`)}: `), h("span", { lang: locale }, turn.clarification.question)),
    h(
      "ul",
      { className: "options" },
      turn.clarification.options.map((option) =>
        h(
          "li",
          { className: picked(option) ? "option picked" : "option", "aria-current": picked(option) ? "true" : null },
          h("span", { lang: locale }, option.label),
          option.intent ? h("span", { className: "small muted" }, ` (${intentName(option.intent)})`) : null,
          picked(option) ? badge(t("item.picked"), "label-customer_choice") : null,
        ),
      ),
    ),
  );
}

// what the turn answering a question says of the option picked: "something else" is followed by a request to
// rephrase (or, after the questions allowed, a handoff), "talk to a person" by a handoff
const CHOSEN_KIND = { not_among_options: "something_else", clarify_failed: "something_else", person_requested: "person" };

export function historyCard(labels) {
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
