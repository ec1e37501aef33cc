/** Keyboard shortcuts: off while typing in a field; `g` then a letter switches views. */
import { claimToggle } from "./actions.js";
import { $ } from "./dom.js";
import { openHelp } from "./help.js";
import { detailAction, stepItem } from "./item.js";
import { bulk, currentQueueItem, markCursor, renderSelection } from "./queue.js";
import { backToQueue } from "./router.js";
import { state } from "./state.js";

const G_PREFIX_MS = 1500;

function isTyping(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable || target.closest("select, textarea")) return true;
  return target.tagName === "INPUT" && !["checkbox", "radio", "button", "submit", "reset"].includes(target.type);
}

export function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
  if ($("help").open) return; // the dialog handles Esc itself
  if (isTyping(event.target)) {
    if (event.key === "Escape" && event.target.tagName !== "SELECT") event.target.blur();
    return;
  }
  const key = event.key;
  if (Date.now() - state.gPressedAt < G_PREFIX_MS) {
    state.gPressedAt = 0;
    const to = { q: state.queueHash, a: "#/analytics", u: "#/unmet" }[key];
    if (to) {
      event.preventDefault();
      location.hash = to;
    }
    return;
  }
  const handled = key === "?" ? openHelp() : key === "g" ? (state.gPressedAt = Date.now()) : viewKey(key, event);
  if (handled) event.preventDefault();
}

/** A shortcut for the current view; true when it did something. */
function viewKey(key, event) {
  if (key === "/" && state.view === "queue") {
    $("f-q").focus();
    return true;
  }
  if (state.view === "queue") return queueKey(key, event);
  if (state.view === "item") return itemKey(key);
  if (key === "Escape" && state.view !== "queue") {
    backToQueue();
    return true;
  }
  return false;
}

function queueKey(key, event) {
  const items = state.queue ? state.queue.items : [];
  const item = currentQueueItem();
  switch (key) {
    case "j":
    case "k":
      if (!items.length) return false;
      state.cursor = Math.max(0, Math.min(items.length - 1, state.cursor + (key === "j" ? 1 : -1)));
      markCursor(true);
      return true;
    case "Enter":
      if (!item || event.target.closest("a, button")) return false;
      location.hash = `#/item/${item.id}`;
      return true;
    case "x":
      if (!item) return false;
      if (state.selected.has(item.id)) state.selected.delete(item.id);
      else state.selected.add(item.id);
      renderSelection();
      return true;
    case "c":
      bulk(state.selected.size ? "claim" : claimToggle(item));
      return Boolean(item);
    case "y":
      bulk("confirm");
      return Boolean(item);
    case "o":
      bulk("out_of_scope");
      return Boolean(item);
    case "e":
    case "n":
    case "a":
      if (!item) return false;
      state.pendingFocus = { e: "correct", n: "new-intent", a: "article" }[key];
      location.hash = `#/item/${item.id}`;
      return true;
    case "Escape":
      if (!state.selected.size) return false;
      state.selected.clear();
      renderSelection();
      return true;
    default:
      return false;
  }
}

function itemKey(key) {
  if (!state.detail) return key === "Escape" ? (backToQueue(), true) : false;
  const item = state.detail.item;
  switch (key) {
    case "Escape":
      backToQueue();
      return true;
    case "j":
    case "k":
      stepItem(key === "j" ? 1 : -1);
      return true;
    case "c":
      if (item.status === "done") return false;
      detailAction(claimToggle(item));
      return true;
    case "y":
      detailAction("confirm");
      return true;
    case "o":
      detailAction("out_of_scope");
      return true;
    case "e":
      $("item-correct").focus();
      return true;
    case "n":
      $("item-new-intent").focus();
      return true;
    case "a":
      $("item-article").focus();
      return true;
    default:
      return false;
  }
}
