/** Claiming and labelling items through the API, and saying what was done. */
import { api } from "./api.js";
import { fillProposedIntents, intentName } from "./catalog.js";
import { itemsText, t } from "./i18n.js";
import { fillIntentFilters } from "./queue-filters.js";
import { isMine, state } from "./state.js";
import { announce, announceError } from "./toast.js";

function doneText(action, count, intent) {
  return t(`done.${action}`, { what: itemsText(count), intent: intent ? intentName(intent) : "" });
}

/** One label or claim action on items (one request); returns true when it went through. */
export async function act(itemIds, action, extra = {}, { asBulk = false } = {}) {
  const body = { action, ...extra };
  try {
    if (itemIds.length === 1 && !asBulk && (action === "claim" || action === "release")) {
      await api(`/items/${itemIds[0]}/${action}`, { method: "POST" });
    } else if (itemIds.length === 1 && !asBulk) {
      await api(`/items/${itemIds[0]}/label`, { method: "POST", body });
    } else {
      await api("/bulk", { method: "POST", body: { ...body, item_ids: itemIds } });
    }
  } catch (error) {
    announceError(error);
    return false;
  }
  announce(doneText(action, itemIds.length, extra.intent));
  if (action === "new_intent") refreshCatalog();
  return true;
}

async function refreshCatalog() {
  try {
    state.catalog = await api("/catalog");
  } catch (error) {
    announceError(error);
    return;
  }
  fillProposedIntents();
  fillIntentFilters();
}

export function claimToggle(item) {
  return item && isMine(item) && item.status === "claimed" ? "release" : "claim";
}
