/** The analytics view (#/analytics): rates, the queue's size and charts for the chosen period, and the content gaps. */
import { intentName } from "./catalog.js";
import { barChart, trendChart } from "./charts.js";
import { $, h, replace } from "./dom.js";
import { loadGaps } from "./gaps.js";
import { formatNumber, formatPercent, has, t } from "./i18n.js";
import { state } from "./state.js";
import { loadLatest } from "./views.js";

export async function loadAnalytics() {
  loadGaps(); // slower (it groups messages by meaning): the charts need not wait for it
  if (await loadLatest("analytics", `/analytics?days=${$("analytics-days").value}`, "analytics-body")) renderAnalytics();
}

export function fillDayOptions() {
  for (const option of $("analytics-days").options) option.textContent = t("analytics.days", { days: option.value });
}

function statCard(title, value, hint, kind) {
  return h("div", { className: `stat ${kind || ""}` }, h("div", { className: "stat-title" }, title), h("div", { className: "stat-value" }, value), h("div", { className: "stat-hint" }, hint));
}

export function renderAnalytics() {
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
