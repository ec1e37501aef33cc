/**
 * The review API on this origin. The session is an HttpOnly cookie (the page never sees or keeps the API key), and
 * state-changing requests carry the `x-deflect-review: 1` header the API asks of cookie sessions, against CSRF.
 */
import { has, t } from "./i18n.js";

const API = "/review/api";
const REQUEST_TIMEOUT_MS = 20000;

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["x-deflect-review"] = "1";
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(API + path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (_) {
    throw new ApiError(0, t("error.network"));
  }
  if (response.status === 401 && document.body.dataset.page !== "login") {
    location.assign(loginUrl());
    throw new ApiError(401, "");
  }
  if (response.status === 204) return null;
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    const message = payload && payload.error ? payload.error.message : "";
    throw new ApiError(response.status, message);
  }
  return payload;
}

export function errorText(error) {
  if (!(error instanceof ApiError)) return t("error.generic");
  if (error.status === 0) return error.message;
  const title = has(`error.${error.status}`) ? t(`error.${error.status}`) : t("error.generic");
  return error.message ? `${title}: ${error.message}` : title;
}

export function loginUrl() {
  return `/review/login${location.search}`;
}
