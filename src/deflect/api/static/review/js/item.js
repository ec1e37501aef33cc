/** The item view (#/item/ID): one item with its conversation, and the forms that claim and label it. */
import { act, claimToggle } from "./actions.js";
import { api, errorText } from "./api.js";
import { articleOptions, intentName, intentOptions, newIntentProblem } from "./catalog.js";
import { $, h, replace } from "./dom.js";
import { t } from "./i18n.js";
import { card, conversationCard, historyCard, messageCard } from "./item-cards.js";
import { backToQueue } from "./router.js";
import { PAGE_SIZE, isMine, state } from "./state.js";
import { announce, announceError } from "./toast.js";
import { priorityPill, reasonBadges, statusCell } from "./widgets.js";

export async function loadItem(id) {
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

export function renderItem() {
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

export async function detailAction(action, extra = {}) {
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

export function stepItem(step) {
  if (!state.queue || !state.detail) return;
  const index = state.queue.items.findIndex((item) => item.id === state.detail.item.id);
  const next = state.queue.items[(index < 0 ? state.cursor : index) + step];
  if (next) location.hash = `#/item/${next.id}`;
}
