// The newsworkers search page: the URL holds the whole search (state.js); this module renders it: facets
// with include/exclude, chips, dates, results, pager and downloads, and wires the panels of the other modules.
// Every article field is hostile input: text goes into the DOM as text, and the one HTML we take (snippets)
// is rebuilt from its text and <b> tags only.

import { closeArticle, formatDate, isOpen, openArticle, setupArticle } from "./article.js";
import { renderCompare, renderHistogram, renderTopSources, setupCompare, setupHistogram } from "./charts.js";
import { $, el, getJson, plural } from "./dom.js";
import { countryNames, renderMap } from "./map.js";
import { setupSaved } from "./saved.js";
import {
  FACET_TITLES, FACETS, PRESETS, apiParams, go, histogramInterval, href, readState, toggleFilter, urlParams,
} from "./state.js";

const PAGE_SIZE = 20;
const FACET_SIZE = 30;  // values fetched per facet
const FACET_SHOWN = 8;  // values shown before "more"

let renderToken = 0;
let lastSearch = null;  // the URL of the last search shown: opening an article must not search again
let lastCompare = null;
let names = new Map();  // country code → name, for chips

async function render() {
  const state = readState();
  $("q").value = state.q;
  $("sort").value = state.sort;
  $("collapse").checked = state.collapse;
  renderChips(state);
  renderDates(state);
  renderDownloads(state);
  const searchKey = urlParams({ ...state, article: "", compare: [], compareMode: "count" }).toString();
  if (searchKey !== lastSearch) {
    if (!state.article) closeArticle();
    await search(state, searchKey);
  }
  const compareKey = urlParams({ ...state, page: 1, article: "", compare: [] }).toString() +
    JSON.stringify([state.compare, state.compareMode]);
  if (compareKey !== lastCompare) {
    lastCompare = compareKey;
    renderCompare(state);
  }
  if (state.article) openArticle(state.article); else closeArticle();
}

async function search(state, key) {
  const token = ++renderToken;
  const interval = histogramInterval(state);
  const params = apiParams(state);
  params.set("page", String(state.page));
  params.set("size", String(PAGE_SIZE));
  params.set("facets", FACETS.join(","));
  params.set("facet_size", String(FACET_SIZE));
  params.set("histogram", interval);
  document.body.classList.add("loading");
  renderMap(state);
  try {
    const result = await getJson("/api/search?" + params.toString());
    if (token !== renderToken) return;
    lastSearch = key;
    showError("");
    renderFacets(state, result.facets);
    renderHistogram(state, result.histogram || [], interval);
    renderTopSources(state, result.facets.source_name || [], result.total);
    renderResults(state, result);
  } catch (error) {
    if (token !== renderToken) return;
    lastSearch = null;
    showError(error.message);
    renderResults(state, { total: 0, hits: [] });
    renderFacets(state, {});
    renderHistogram(state, [], interval);
    renderTopSources(state, [], 0);
  } finally {
    if (token === renderToken) document.body.classList.remove("loading");
  }
}

function showError(message) {
  $("error").hidden = !message;
  $("error").textContent = message ? "That did not work: " + message : "";
}

function valueLabel(facet, value) {
  return facet === "countries" ? names.get(value.toUpperCase()) || value : value;
}

function renderChips(state) {
  const chips = [];
  for (const [boxName, exclude] of [["filters", false], ["excluded", true]]) {
    for (const [facet, values] of Object.entries(state[boxName])) {
      for (const value of values) {
        chips.push(el("button", {
          type: "button", class: exclude ? "chip chip-not" : "chip", title: "Remove this filter",
          "aria-label": `Remove the filter ${exclude ? "NOT " : ""}${FACET_TITLES[facet] || facet}: ${valueLabel(facet, value)}`,
          onclick: () => toggleFilter(facet, value, { exclude }),
        }, exclude ? el("span", { class: "chip-op", text: "NOT " }) : null,
        el("span", { class: "chip-facet", text: (FACET_TITLES[facet] || facet) + ": " }), valueLabel(facet, value), " ×"));
      }
    }
  }
  $("chips").replaceChildren(...chips);
  const active = chips.length + (state.since || state.until ? 1 : 0);
  $("filters-toggle").textContent = active ? `Filters (${active})` : "Filters";
}

function renderDates(state) {
  for (const button of document.querySelectorAll(".preset")) {
    const on = button.dataset.range === state.range && Boolean(state.range || !(state.since || state.until));
    button.setAttribute("aria-pressed", String(on));
  }
  $("since-input").value = state.since.slice(0, 10);
  $("until-input").value = state.until.slice(0, 10);
  const ranged = state.since || state.until;
  $("range-label").textContent = state.range ? PRESETS[state.range].label[0].toUpperCase() + PRESETS[state.range].label.slice(1)
    : ranged ? `${state.since ? state.since.slice(0, 10) : "…"} to ${state.until ? state.until.slice(0, 10) : "…"}` : "All dates";
}

function renderDownloads(state) {
  for (const format of ["csv", "jsonl"]) {
    const params = apiParams(state);
    params.set("format", format);
    $("download-" + format).href = "/api/export?" + params.toString();
  }
}

function facetRow(state, facet, value, count, hidden) {
  const on = (state.filters[facet] || []).includes(value);
  const off = (state.excluded[facet] || []).includes(value);
  const classes = ["facet-value", on ? "active" : "", off ? "excluded" : ""].filter(Boolean).join(" ");
  return el("li", { class: ["facet-row", hidden && !on && !off ? "extra" : ""].filter(Boolean).join(" ") },
    el("button", {
      type: "button", class: classes, "aria-pressed": String(on), dataset: { facet, value },
      onclick: () => toggleFilter(facet, value, { exclude: off }),
    }, el("span", { class: "facet-label", text: value, title: value }), el("span", { class: "count", text: off ? "NOT" : String(count) })),
    el("button", {
      type: "button", class: "exclude", text: "−", title: off ? "Stop excluding" : "Exclude", "aria-pressed": String(off),
      "aria-label": `${off ? "Stop excluding" : "Exclude"} ${value}`, dataset: { facet, value },
      onclick: () => toggleFilter(facet, value, { exclude: true }),
    }));
}

function renderFacets(state, facets) {
  const sections = [];
  for (const facet of FACETS) {
    const counts = facets[facet] || [];
    // An active or excluded value stays visible (to be clicked off) even when it fell out of the top counts.
    const shown = [...counts];
    for (const value of [...(state.filters[facet] || []), ...(state.excluded[facet] || [])]) {
      if (!shown.some((c) => c.value === value)) shown.push({ value, count: 0 });
    }
    if (!shown.length) continue;
    const list = el("ul", { class: "facet-values" }, ...shown.map(({ value, count }, i) => facetRow(state, facet, value, count, i >= FACET_SHOWN)));
    const section = el("section", { class: "facet", dataset: { facet } }, el("h2", { text: FACET_TITLES[facet] }), list);
    if (shown.length > FACET_SHOWN) {
      const more = `more (${shown.length - FACET_SHOWN})`;
      section.append(el("button", {
        type: "button", class: "link more", text: more, "aria-expanded": "false",
        onclick: (event) => {
          const open = section.classList.toggle("open");
          event.target.textContent = open ? "less" : more;
          event.target.setAttribute("aria-expanded", String(open));
        },
      }));
    }
    sections.push(section);
  }
  $("facets").replaceChildren(...sections);
}

// A snippet is escaped text with <b> marks; keep exactly that and drop anything else.
function snippetNode(html) {
  const out = el("p", { class: "snippet" });
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  const copy = (from, to) => {
    for (const node of from.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) to.append(node.textContent);
      else if (node.nodeType === Node.ELEMENT_NODE) {
        if (node.tagName === "B") { const b = el("b"); copy(node, b); to.append(b); } else copy(node, to);
      }
    }
  };
  copy(doc.body, out);
  return out;
}

// Pager words follow the order: by date the pages go back in time; by relevance they only go on.
const PAGER_WORDS = { date: ["← newer", "older →"], relevance: ["← previous", "next →"] };

function renderResults(state, result) {
  const list = $("results");
  $("summary").textContent = result.total
    ? `${plural(result.total, "matching article")}${state.collapse ? ", near-duplicates grouped" : ""}` +
      (result.total > PAGE_SIZE ? ` · page ${state.page} of ${Math.ceil(result.total / PAGE_SIZE)}` : "")
    : "No matching articles.";
  list.replaceChildren(...result.hits.map((hit) => resultItem(state, hit)));
  list.dataset.shown = state.collapse ? "stories" : "articles";
  const sorted = state.sort === "date" || !state.q.trim() ? "date" : "relevance";
  const [back, on] = PAGER_WORDS[sorted];
  const pages = Math.ceil(result.total / PAGE_SIZE);
  const buttons = [];
  if (state.page > 1) buttons.push(el("button", { type: "button", class: "pager-back", text: back, onclick: () => go({ ...state, page: state.page - 1 }) }));
  if (result.hits.length === PAGE_SIZE && state.page < pages) {
    buttons.push(el("button", { type: "button", class: "pager-on", text: on, onclick: () => go({ ...state, page: state.page + 1 }) }));
  }
  $("pager").replaceChildren(...buttons);
}

function resultItem(state, hit) {
  const title = el("a", {
    class: "title", href: href({ ...state, article: hit.id }), text: hit.title || hit.url,
    onclick: (event) => { event.preventDefault(); go({ ...state, article: hit.id }); },
  });
  const meta = el("div", { class: "meta" },
    el("time", { datetime: hit.published_at || "", text: formatDate(hit.published_at) }),
    el("span", { class: "source", text: hit.source_name || hit.domain || "" }),
    hit.language ? el("span", { class: "lang", text: hit.language }) : null);
  const places = hit.locations.slice(0, 4).map((p) => el("button", {
    type: "button", class: "tag", text: p, onclick: () => toggleFilter("locations", p),
  }));
  const item = el("li", { class: "hit", dataset: { id: hit.id } }, el("h3", { class: "hit-title" }, title), meta,
    snippetNode(hit.snippet), places.length ? el("div", { class: "tags" }, ...places) : null);
  if (state.collapse && hit.duplicates > 0) item.append(...duplicates(state, hit));
  return item;
}

function duplicates(state, hit) {
  const members = el("ol", { class: "cluster", hidden: true });
  const toggle = el("button", {
    type: "button", class: "link dups", text: `+${plural(hit.duplicates, "near-duplicate")}`, "aria-expanded": "false",
    onclick: async () => {
      members.hidden = !members.hidden;
      toggle.setAttribute("aria-expanded", String(!members.hidden));
      if (members.hidden || members.childElementCount) return;
      try {
        const { cluster } = await getJson("/api/articles/" + encodeURIComponent(hit.id));
        cluster.forEach((m, i) => members.append(el("li", {},
          el("a", { href: href({ ...state, article: m.id }), text: m.title,
            onclick: (e) => { e.preventDefault(); go({ ...state, article: m.id }); } }),
          el("span", { class: "meta", text: ` ${formatDate(m.published_at)} · ${m.source_name || m.domain || ""}` +
            (i === 0 ? " · first reported" : "") }))));
      } catch (error) {
        members.append(el("li", { text: error.message }));
      }
    },
  });
  return [toggle, members];
}

// -- wiring ---------------------------------------------------------------------------------------------------

function typing(target) {
  return target.closest && target.closest("input, textarea, select, [contenteditable]");
}

function setupFilters() {
  const toggle = $("filters-toggle");
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    $("sidebar").classList.toggle("open", open);
    if (open) $("sidebar").querySelector("button, input").focus();
  });
  for (const button of document.querySelectorAll(".preset")) {
    button.addEventListener("click", () => go({ range: button.dataset.range, since: "", until: "" }));
  }
  $("date-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const since = $("since-input").value;
    const until = $("until-input").value;
    if (since && until && since > until) { showError("the start date is after the end date"); return; }
    go({ since, until, range: "" });
  });
  $("clear-dates").addEventListener("click", () => go({ since: "", until: "", range: "" }));
}

async function setup() {
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    go({ q: $("q").value.trim() });
  });
  $("sort").addEventListener("change", () => go({ sort: $("sort").value }));
  $("collapse").addEventListener("change", () => go({ collapse: $("collapse").checked }));
  document.addEventListener("keydown", (event) => {
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typing(event.target) && !isOpen()) {
      event.preventDefault();
      $("q").focus();
      $("q").select();
    }
  });
  window.addEventListener("popstate", render);
  window.addEventListener("newsworkers:state", render);
  setupFilters();
  setupHistogram();
  setupCompare();
  setupArticle();
  setupSaved(showError);
  names = await countryNames();
  render();
}

setup();
