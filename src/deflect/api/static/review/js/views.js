/** Loading a view's data: a loading note until its first answer, and only the newest answer kept when the reviewer
 * changes the period or the view faster than the server answers. */
import { api } from "./api.js";
import { $, h, replace } from "./dom.js";
import { t } from "./i18n.js";
import { state } from "./state.js";
import { announceError } from "./toast.js";

/** GETs `path` into `state[key]`, with "loading" in `bodyId` until there is something to show; true when this
 * load's answer is the one kept (render it), false when it failed or a newer load started meanwhile. */
export async function loadLatest(key, path, bodyId) {
  const load = ++state.loads[key];
  if (!state[key]) replace($(bodyId), h("p", { className: "muted loading" }, t("loading")));
  try {
    const answer = await api(path);
    if (load !== state.loads[key]) return false;
    state[key] = answer;
  } catch (error) {
    if (load === state.loads[key]) announceError(error);
    return false;
  }
  return true;
}
