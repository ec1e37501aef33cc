/** Small pieces the views share: badges, the confidence and other share meters, the priority pill. */
import { h } from "./dom.js";
import { formatPercent, t } from "./i18n.js";

export function badge(text, kind, title) {
  return h("span", { className: `badge ${kind}`, title }, text);
}

export function reasonBadges(reasons) {
  return h("span", { className: "badges" }, reasons.map((reason) => badge(t(`reason.${reason}`), `reason-${reason}`)));
}

export function statusCell(item) {
  const claimer = item.status === "claimed" && item.claimed_by ? h("span", { className: "muted small" }, t("claimedBy", { name: item.claimed_by })) : null;
  return h("span", { className: "status-cell" }, badge(t(`status.${item.status}`), `status-${item.status}`), claimer);
}

export function localeBadge(locale) {
  return h("span", { className: "locale", title: t(`locale.${locale}`) }, locale.toUpperCase());
}

export function confidenceMeter(value) {
  return shareMeter(value, "confidence", value >= 0.75 ? "high" : value >= 0.45 ? "mid" : "low");
}

/** A share (0–1) as a short bar and its percentage; `kind` and `level` (high, mid, low) choose the colours. */
export function shareMeter(value, kind, level) {
  return h(
    "span",
    { className: `${kind} ${level}` },
    h("span", { className: "meter", "aria-hidden": "true" }, h("span", { style: `width:${Math.round(value * 100)}%` })),
    h("span", { className: "value" }, formatPercent(value, 0)),
  );
}

export function priorityPill(value) {
  const level = value >= 6 ? "urgent" : value >= 3 ? "high" : "normal";
  return h("span", { className: `priority ${level}` }, value.toFixed(1));
}
