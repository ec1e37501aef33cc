/** The unmet-needs view (#/unmet): groups of similar unanswered messages, each can become a new intent. */
import { act } from "./actions.js";
import { newIntentProblem } from "./catalog.js";
import { $, h, replace } from "./dom.js";
import { formatNumber, formatPercent, plural, t } from "./i18n.js";
import { state } from "./state.js";
import { announce } from "./toast.js";
import { loadLatest } from "./views.js";
import { badge, localeBadge } from "./widgets.js";

export async function loadUnmet() {
  if (await loadLatest("unmet", "/unmet-needs?min_size=2", "unmet-body")) renderUnmet();
}

export function renderUnmet() {
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
