/** The queue view: a page of items, the cursor row, the selection and its bulk actions, paging. */
import { act } from "./actions.js";
import { api } from "./api.js";
import { intentName, newIntentProblem } from "./catalog.js";
import { $, h, replace } from "./dom.js";
import { formatNumber, formatTime, itemsText, t } from "./i18n.js";
import { syncFilterForm } from "./queue-filters.js";
import { PAGE_SIZE, state } from "./state.js";
import { announce, announceError } from "./toast.js";
import { confidenceMeter, localeBadge, priorityPill, reasonBadges, statusCell } from "./widgets.js";

export async function loadQueue(params) {
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

export function renderQueue() {
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

export function markCursor(focus) {
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

export function renderSelection() {
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

export function currentQueueItem() {
  return state.queue ? state.queue.items[state.cursor] || null : null;
}

/** The items queue shortcuts and bulk buttons act on: the selection, else the current row. */
function targetIds() {
  if (state.selected.size) return [...state.selected];
  const item = currentQueueItem();
  return item ? [item.id] : [];
}

export async function bulk(action, ids = targetIds()) {
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

export function setupQueue() {
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
