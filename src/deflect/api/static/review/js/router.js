/** Views are hash routes: #/queue?status=open&reason=…&page=N, #/item/ID, #/analytics, #/unmet. */
import { state } from "./state.js";

export function parseHash() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const parts = path.split("/");
  if (parts[0] === "item" && /^\d+$/.test(parts[1] || "")) return { view: "item", id: Number(parts[1]) };
  if (parts[0] === "analytics") return { view: "analytics" };
  if (parts[0] === "unmet") return { view: "unmet" };
  return { view: "queue", params: new URLSearchParams(query) };
}

export function show(view) {
  state.view = view;
  for (const section of document.querySelectorAll("main > .view")) section.hidden = section.id !== `view-${view}`;
  for (const link of document.querySelectorAll(".tabs a")) {
    const current = link.dataset.view === (view === "item" ? "queue" : view);
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

export function backToQueue() {
  location.hash = state.queueHash;
}
