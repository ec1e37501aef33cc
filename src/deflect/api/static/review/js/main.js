/**
 * The review page (body[data-page="review"]): the queue, an item with its conversation, analytics and unmet needs,
 * in Korean and English. Native modules, no build step and nothing from the internet; it talks only to /review/api
 * on its own origin.
 */
import { fillDayOptions, loadAnalytics, renderAnalytics } from "./analytics.js";
import { api, loginUrl } from "./api.js";
import { fillProposedIntents } from "./catalog.js";
import { $, h, replace } from "./dom.js";
import { loadGaps, renderGaps } from "./gaps.js";
import { fillHelp, openHelp } from "./help.js";
import { applyStaticText, has, lang, setLanguage, t } from "./i18n.js";
import { loadItem, renderItem } from "./item.js";
import { onKey } from "./keyboard.js";
import { fillIntentFilters, setupFilters } from "./queue-filters.js";
import { loadQueue, renderQueue, setupQueue } from "./queue.js";
import { parseHash, show } from "./router.js";
import { state } from "./state.js";
import { announceError } from "./toast.js";
import { loadUnmet, renderUnmet } from "./unmet.js";
import { badge } from "./widgets.js";

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

function rerender() {
  applyStaticText();
  fillDayOptions();
  fillHelp();
  fillIntentFilters();
  renderReviewer();
  if (state.view === "queue") renderQueue();
  else if (state.view === "item" && state.detail) renderItem();
  else if (state.view === "analytics") {
    if (state.analytics) renderAnalytics();
    if (state.gaps) renderGaps();
  } else if (state.view === "unmet" && state.unmet) renderUnmet();
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
  setupFilters();
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
  $("gaps-min-seen").addEventListener("change", loadGaps);
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

startReview();
