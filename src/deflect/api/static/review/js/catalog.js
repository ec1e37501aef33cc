/** The model's intents and the help-center articles: their names, the lists to pick them from, new intent names. */
import { $, h, replace } from "./dom.js";
import { has, lang, t } from "./i18n.js";
import { state } from "./state.js";

const INTENT_NAME = /^[a-z][a-z0-9_]{1,63}$/;
const OUT_OF_SCOPE = "out_of_scope";

/** An intent's name in the reviewer's language (the API names them in the customer's). */
export function intentName(intent, fallback) {
  if (intent === OUT_OF_SCOPE) return t("oos");
  const known = state.catalog.intents.find((entry) => entry.intent === intent);
  if (!known) return fallback || intent;
  return lang === "ko" ? known.name_ko : known.name_en;
}

export function articleById(id) {
  return state.catalog.articles.find((article) => article.id === id) || null;
}

export function intentOptions(select, { placeholder, exclude } = {}) {
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

export function articleOptions(select, preferredLocale) {
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

export function fillProposedIntents() {
  replace($("proposed-intents"), state.catalog.proposed_intents.map((name) => h("option", { value: name })));
}

/** The message for an intent name a reviewer typed, or null when it is a fine new intent. */
export function newIntentProblem(name) {
  if (!INTENT_NAME.test(name)) return t("error.intentName");
  if (state.catalog.intents.some((entry) => entry.intent === name)) return t("error.intentExists", { intent: name });
  return null;
}
