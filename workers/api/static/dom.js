// DOM and HTTP helpers. Every article field is hostile input, so text goes into the DOM as text
// (textContent), never as HTML.

export const $ = (id) => document.getElementById(id);

export function el(tag, props = {}, ...children) {
  return build(document.createElement(tag), props, children);
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(tag, props = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), props, children);
}

function build(node, props, children) {
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === "class") node.setAttribute("class", value);
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

export const plural = (n, word, many = word + "s") => `${n.toLocaleString()} ${n === 1 ? word : many}`;

// The API key for writes (saving and deleting saved searches): typed once, kept for this tab only and sent
// as a header, so it never reaches the URL, the history or a server log of query strings.
const KEY_STORE = "newsworkers.api_key";

export function apiKey() {
  try {
    return sessionStorage.getItem(KEY_STORE) || "";
  } catch {
    return "";
  }
}

export function setApiKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY_STORE, key); else sessionStorage.removeItem(KEY_STORE);
  } catch {
    // Storage refused (a private window's quota): the key then lasts as long as the input holds it.
  }
}

export class ApiError extends Error {
  constructor(message, status, reason) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

export async function api(url, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const key = method === "GET" ? "" : apiKey();
  if (key) headers["X-API-Key"] = key;
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(data.detail) ? data.detail.map((d) => d.msg).join("; ") : data.detail;
    throw new ApiError(data.error || detail || `the server answered ${response.status}`, response.status, data.reason);
  }
  return data;
}

export const getJson = (url) => api(url);

// A "nice" axis top at or above max (1, 2 or 5 times a power of ten) and its ticks, bottom to top.
export function niceTicks(max) {
  if (max <= 0) return { top: 1, ticks: [0, 1] };
  const power = 10 ** Math.floor(Math.log10(max));
  const top = [1, 2, 5, 10].map((m) => m * power).find((v) => v >= max);
  const half = top / 2;
  return { top, ticks: Number.isInteger(half) || top < 1 ? [0, half, top] : [0, top] };
}
