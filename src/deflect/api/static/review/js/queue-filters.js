/** The queue's filter form and the #/queue?… hash it writes. */
import { intentOptions } from "./catalog.js";
import { $, h } from "./dom.js";
import { t } from "./i18n.js";
import { state } from "./state.js";

const SEARCH_DELAY_MS = 300;

const FILTERS = ["status", "reason", "intent", "locale", "q", "mine"];

export function fillIntentFilters() {
  intentOptions($("f-intent"), { placeholder: t("filter.any") });
  const filter = $("f-intent");
  const wanted = state.queueParams.get("intent") || "";
  if (wanted && ![...filter.options].some((option) => option.value === wanted)) {
    filter.append(h("option", { value: wanted }, wanted));
  }
  filter.value = wanted;
  intentOptions($("bulk-intent"), { placeholder: t("intent.choose") });
}

export function syncFilterForm(params) {
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

export function setupFilters() {
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
}
