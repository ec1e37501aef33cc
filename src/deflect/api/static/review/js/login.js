/** The sign-in page: an API key is exchanged for a session cookie. */
import { api, ApiError } from "./api.js";
import { $ } from "./dom.js";
import { applyStaticText, lang, setLanguage, t } from "./i18n.js";

function startLogin() {
  applyStaticText();
  const form = $("login-form");
  const input = $("login-key");
  const error = $("login-error");
  const submit = form.querySelector('button[type="submit"]');
  let failure = null;

  const showError = (key) => {
    failure = key;
    error.textContent = t(key);
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  };
  $("lang-toggle").addEventListener("click", () => {
    setLanguage(lang === "ko" ? "en" : "ko");
    if (failure) error.textContent = t(failure);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    input.removeAttribute("aria-invalid");
    const key = input.value.trim();
    if (key.length < 8) return showError("login.short");
    submit.disabled = true;
    try {
      await api("/session", { method: "POST", body: { key } });
      input.value = "";
      location.replace(`/review${location.search}`);
    } catch (problem) {
      const status = problem instanceof ApiError ? problem.status : 0;
      showError({ 401: "login.unknown", 403: "login.forbidden", 422: "login.short", 0: "error.network" }[status] || "error.generic");
    } finally {
      submit.disabled = false;
    }
  });
  input.focus();
}

startLogin();
