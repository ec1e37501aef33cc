/** The reviewer's language (Korean or English): texts, numbers and dates in it, and the texts written in the HTML. */
import { EN } from "./strings-en.js";
import { KO } from "./strings-ko.js";

const LANGUAGE_KEY = "deflect.review.lang";
const STRINGS = { en: EN, ko: KO };

function initialLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked === "ko" || asked === "en") return asked;
  let saved = null;
  try {
    saved = localStorage.getItem(LANGUAGE_KEY);
  } catch (_) {
    // storage may be off; fall back to the browser's language
  }
  if (saved === "ko" || saved === "en") return saved;
  return (navigator.language || "").toLowerCase().startsWith("ko") ? "ko" : "en";
}

// A live binding: importers see the language setLanguage() switches to.
export let lang = initialLanguage();

export function t(key, values) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return values ? text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole)) : text;
}

export function has(key) {
  return key in STRINGS[lang] || key in STRINGS.en;
}

/** `key.one` for one of something where the language has it (English), else `key`. */
export function plural(key, count) {
  return count === 1 && `${key}.one` in STRINGS[lang] ? `${key}.one` : key;
}

export function itemsText(count) {
  return count === 1 ? t("count.item") : t("count.items", { count: formatNumber(count) });
}

export function formatNumber(value) {
  return new Intl.NumberFormat(lang === "ko" ? "ko-KR" : "en-US").format(value);
}

export function formatPercent(value, digits = 1) {
  if (value === null || value === undefined) return "–";
  return new Intl.NumberFormat(lang === "ko" ? "ko-KR" : "en-US", {
    style: "percent",
    maximumFractionDigits: digits,
  }).format(value);
}

export function formatTime(iso) {
  return new Intl.DateTimeFormat(lang === "ko" ? "ko-KR" : "en-US", {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  }).format(new Date(iso));
}

export function setLanguage(next) {
  lang = next;
  try {
    localStorage.setItem(LANGUAGE_KEY, next);
  } catch (_) {
    // not saved; the choice still holds for this page
  }
  const url = new URL(location.href);
  if (url.searchParams.has("lang")) {
    url.searchParams.set("lang", next);
    history.replaceState(history.state, "", url);
  }
  applyStaticText();
}

/** Texts written in the HTML, marked with data-i18n (textContent) and data-i18n-* (attributes). */
export function applyStaticText() {
  document.documentElement.lang = lang;
  document.title = document.body.dataset.page === "login" ? `${t("app.title")} · ${t("login.submit")}` : t("app.title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const attribute of ["aria-label", "title", "placeholder"]) {
    for (const node of document.querySelectorAll(`[data-i18n-${attribute}]`)) {
      node.setAttribute(attribute, t(node.getAttribute(`data-i18n-${attribute}`)));
    }
  }
  const toggle = document.getElementById("lang-toggle");
  if (toggle) {
    toggle.textContent = t("lang.other");
    toggle.lang = lang === "ko" ? "en" : "ko";
    toggle.setAttribute("aria-label", t("lang.otherLabel"));
  }
}
