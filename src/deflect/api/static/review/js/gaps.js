/** Content gaps, under the analytics charts: the articles that fail the customers they are shown to, and the
 * questions no article answered, for the chosen period; each table also as a CSV download. */
import { intentName } from "./catalog.js";
import { $, h, replace } from "./dom.js";
import { formatNumber, formatPercent, formatTime, plural, t } from "./i18n.js";
import { state } from "./state.js";
import { loadLatest } from "./views.js";
import { badge, localeBadge, shareMeter } from "./widgets.js";

function period() {
  return new URLSearchParams({ days: $("analytics-days").value, min_seen: $("gaps-min-seen").value });
}

export async function loadGaps() {
  if (await loadLatest("gaps", `/content-gaps?${period()}`, "gaps-body")) renderGaps();
}

export function renderGaps() {
  replace($("gaps-body"), articlesCard(state.gaps), questionsCard(state.gaps));
}

function download(table, label) {
  const query = period();
  query.set("table", table);
  return h("a", { className: "download", href: `/review/api/content-gaps.csv?${query}`, download: "", "aria-label": label }, t("gaps.download"));
}

function cardHead(id, title, summary, link) {
  return h("header", { className: "gaps-head" }, h("h3", { id }, title), h("span", { className: "muted small" }, summary), link);
}

function countAndRate(count, rate) {
  return h("span", { className: "count-rate" }, h("strong", {}, formatNumber(count)), " ", h("span", { className: "muted" }, formatPercent(rate, 0)));
}

function scoreMeter(value) {
  return shareMeter(value, "score", value >= 0.5 ? "high" : value >= 0.25 ? "mid" : "low");
}

function articleCell(article) {
  const title = article.title
    ? article.url
      ? h("a", { href: article.url, target: "_blank", rel: "noopener noreferrer" }, article.title)
      : article.title
    : h("span", { className: "muted" }, t("gaps.notInHelpCenter"));
  return h("td", {}, h("div", { className: "article-title" }, article.locale ? localeBadge(article.locale) : null, title), h("code", { className: "muted small" }, article.article_id));
}

function articleRow(article) {
  const clarify = article.clarify;
  return h(
    "tr",
    { dataset: { articleId: article.article_id } },
    articleCell(article),
    h("td", { className: "num" }, h("strong", {}, formatNumber(article.seen)), h("div", { className: "muted small" }, t("gaps.seenDetail", { shown: formatNumber(article.shown), offered: formatNumber(clarify.offered) }))),
    h("td", { className: "num" }, countAndRate(article.not_helpful, article.not_helpful_rate)),
    h("td", { className: "num" }, countAndRate(article.handoffs_after, article.handoff_rate)),
    h(
      "td",
      { className: "num" },
      clarify.offered
        ? [
            h("span", {}, `${formatNumber(clarify.chosen)} / ${formatNumber(clarify.offered)} `, h("span", { className: "muted" }, formatPercent(article.clarify_success_rate, 0))),
            h("div", { className: "muted small" }, t("gaps.turnedDown", { else: formatNumber(clarify.something_else), person: formatNumber(clarify.person), left: formatNumber(clarify.abandoned) })),
          ]
        : h("span", { className: "muted" }, "–"),
    ),
    h("td", {}, scoreMeter(article.failure_score)),
  );
}

function articlesCard(gaps) {
  const articles = gaps.failing_articles;
  const summary = t("gaps.articlesSummary", { shown: formatNumber(articles.length), seen: formatNumber(gaps.articles_seen), min: formatNumber(gaps.min_seen) });
  const columns = ["article", "seen", "notHelpful", "handoffs", "clarify", "score"];
  const table = articles.length
    ? h(
        "div",
        { className: "table-wrap" },
        h(
          "table",
          { className: "queue gaps-table", "aria-labelledby": "gaps-articles-title" },
          h("thead", {}, h("tr", {}, columns.map((column) => h("th", { scope: "col" }, t(`gaps.col.${column}`))))),
          h("tbody", {}, articles.map(articleRow)),
        ),
      )
    : h("p", { className: "empty" }, t("gaps.noArticles", { min: formatNumber(gaps.min_seen) }));
  return h(
    "section",
    { className: "card gaps-articles", "aria-labelledby": "gaps-articles-title" },
    cardHead("gaps-articles-title", t("gaps.articles"), summary, download("articles", t("gaps.downloadArticles"))),
    h("p", { className: "hint" }, t("gaps.articlesHint")),
    table,
  );
}

function questionGroup(group, index) {
  const id = `gap-group-${group.id}`;
  const reasons = Object.entries(group.reasons).map(([code, count]) => badge(`${t(`code.${code}`)} ${formatNumber(count)}`, `reason-${code === "out_of_scope" ? "out_of_scope" : "handoff"}`));
  const locales = Object.entries(group.locales).map(([locale, count]) => h("span", { className: "locale-count" }, localeBadge(locale), formatNumber(count)));
  const readAs = Object.entries(group.intents).map(([intent, count]) => `${intentName(intent)} (${formatNumber(count)})`);
  return h(
    "article",
    { className: "card question-group", "aria-labelledby": `${id}-title` },
    h(
      "header",
      { className: "cluster-head" },
      h("h4", { id: `${id}-title` }, t("gaps.group", { n: index + 1 })),
      badge(t("unmet.size", { count: formatNumber(group.size) }), "size"),
      h("span", { className: "badges" }, reasons),
      h("span", { className: "locales" }, locales),
    ),
    group.terms.length ? h("div", { className: "terms" }, group.terms.map((term) => h("span", { className: "term" }, term))) : null,
    h("ul", { className: "examples" }, group.examples.map((text) => h("li", {}, text))),
    readAs.length ? h("p", { className: "small" }, h("span", { className: "muted" }, `${t("gaps.readAs")}: `), readAs.join(", ")) : null,
    h("p", { className: "muted small" }, t("gaps.lastSeen", { time: formatTime(group.last_seen) })),
  );
}

function questionsCard(gaps) {
  const groups = gaps.question_groups;
  const summary = t(plural("gaps.questionsSummary", groups.length), { groups: formatNumber(groups.length), count: formatNumber(gaps.questions_considered) });
  return h(
    "section",
    { className: "card gaps-questions", "aria-labelledby": "gaps-questions-title" },
    cardHead("gaps-questions-title", t("gaps.questions"), summary, download("questions", t("gaps.downloadQuestions"))),
    h("p", { className: "hint" }, t("gaps.questionsHint")),
    groups.length ? h("div", { className: "clusters" }, groups.map(questionGroup)) : h("p", { className: "empty" }, t("gaps.noQuestions")),
  );
}
