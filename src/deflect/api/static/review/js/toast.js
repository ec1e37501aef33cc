/** Announcements, in the page's one aria-live region. */
import { ApiError, errorText } from "./api.js";
import { $ } from "./dom.js";

const TOAST_MS = 6000;

let toastTimer = null;

export function announce(message, kind = "ok") {
  const region = $("status");
  region.className = `toast visible ${kind}`;
  region.textContent = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => region.classList.remove("visible"), TOAST_MS);
}

export function announceError(error) {
  if (error instanceof ApiError && error.status === 401) return; // on the way to the sign-in page
  announce(errorText(error), "error");
}
