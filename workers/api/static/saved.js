// Saved searches (the alerts API): list, open, save, delete, each with its Atom feed. The panel hides when
// the server has no saved-searches API (a 404). Writes carry the API key from this tab's storage, when one
// was typed; a server with api_keys set answers 401 without it, and the panel then asks for the key.

import { $, ApiError, api, apiKey, el, plural, setApiKey } from "./dom.js";
import { FILTERS, go, queryText, readState } from "./state.js";

let onError = () => {};

function feedHref(url) {
  return typeof url === "string" && url.startsWith("/") && !url.startsWith("//") ? url : null;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Without a running owner, each request starts the embedded Redis briefly; one that comes right after a
// write can find the last one still stopping (a 503 that says "try again"), so reads try a few times.
async function listSaved() {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api("/api/alerts");
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 503) || attempt >= 4) throw error;
      await sleep(300 * attempt);
    }
  }
}

async function refresh() {
  let saved;
  try {
    saved = await listSaved();
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) { $("save-box").hidden = true; return; }
    $("save-box").hidden = false;
    $("saved-list").replaceChildren(el("li", { class: "note", text: "Saved searches are unavailable: " + error.message }));
    return;
  }
  $("save-box").hidden = false;
  $("saved-list").replaceChildren(...saved.map((s) => {
    const href = feedHref(s.feed_url);
    return el("li", { class: "saved-item", dataset: { name: s.name } },
      el("button", { type: "button", class: "link saved-open", text: s.name,
        "aria-label": `Open the saved search ${s.name}`, onclick: () => openSaved(s) }),
      el("span", { class: "count", text: plural(s.matches, "match", "matches") }),
      href ? el("a", { class: "saved-feed", href, text: "Atom", "aria-label": `Atom feed of ${s.name}` }) : null,
      el("button", { type: "button", class: "link saved-delete", text: "delete",
        "aria-label": `Delete the saved search ${s.name}`, onclick: () => remove(s.name) }));
  }));
  if (!saved.length) $("saved-list").append(el("li", { class: "note", text: "None yet." }));
}

function openSaved(saved) {
  const filters = {};
  for (const [facet, values] of Object.entries(saved.filters || {})) if (FILTERS.includes(facet)) filters[facet] = values;
  go({ q: saved.query || "", filters, excluded: {}, since: "", until: "", range: "" });
}

function askForKey(error) {
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
    $("key-box").open = true;
    $("api-key").focus();
    onError(`${error.message}. Enter the API key under “API key” and try again.`);
    return true;
  }
  return false;
}

async function save(event) {
  event.preventDefault();
  const state = readState();
  const name = $("save-name").value.trim() || prompt("A name for this saved search (letters, digits, - and _):", "");
  if (!name) return;
  try {
    const body = await api("/api/alerts", { method: "POST", body: {
      name, query: queryText(state.q, state.excluded), filters: state.filters, webhook: null } });
    onError("");
    $("save-name").value = "";
    const link = $("feed-link");
    const href = feedHref(body.feed_url);
    if (href) { link.href = href; link.textContent = "Atom feed: " + href; link.hidden = false; }
    await refresh();
  } catch (error) {
    if (!askForKey(error)) onError(error.message);
  }
}

async function remove(name) {
  try {
    await api("/api/alerts/" + encodeURIComponent(name), { method: "DELETE" });
    onError("");
    if ($("feed-link").getAttribute("href") === `/feeds/${name}.atom`) $("feed-link").hidden = true;
    await refresh();
    $("save-name").focus();
  } catch (error) {
    if (!askForKey(error)) onError(error.message);
  }
}

export function setupSaved(showError) {
  onError = showError;
  $("api-key").value = apiKey();
  $("api-key").addEventListener("input", () => setApiKey($("api-key").value.trim()));
  $("key-form").addEventListener("submit", (event) => { event.preventDefault(); $("save-name").focus(); });
  $("save-form").addEventListener("submit", save);
  refresh();
}
