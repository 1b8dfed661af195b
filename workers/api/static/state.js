// The search in the URL: everything a search is (words, dates, filters, exclusions, compared queries) reads
// from location.search and writes back to it, so a URL can be bookmarked or shared. Nothing secret goes in:
// the API key lives in sessionStorage (see dom.js).

export const FACETS = ["persons", "organizations", "locations", "groups", "events", "tags", "collections",
  "source_name", "language", "domain"];
// Filters the page sets besides the sidebar's facets (the map sets countries).
export const FILTERS = [...FACETS, "countries"];
export const FACET_TITLES = {
  persons: "People", organizations: "Organizations", locations: "Places", groups: "Groups", events: "Events",
  tags: "Tags", collections: "Collections", source_name: "Sources", language: "Languages", domain: "Domains",
  countries: "Countries",
};
export const PRESETS = {
  "24h": { ms: 86400e3, label: "last 24 hours" },
  "7d": { ms: 7 * 86400e3, label: "last 7 days" },
  "30d": { ms: 30 * 86400e3, label: "last 30 days" },
};
export const COMPARE_MAX = 3;

const isoSeconds = (t) => new Date(t).toISOString().slice(0, 19);

// Our dates without a zone are UTC (as the API reads them); Date.parse would take them as local time.
export function parseUtc(text) {
  if (!text) return NaN;
  const full = text.length === 10 ? text + "T00:00:00" : text;
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(full) ? full : full + "Z");
}

export function readState() {
  const p = new URLSearchParams(location.search);
  const filters = {};
  const excluded = {};
  for (const facet of FILTERS) {
    const values = p.getAll(facet);
    if (values.length) filters[facet] = values;
    const not = p.getAll("not_" + facet);
    if (not.length) excluded[facet] = not;
  }
  // A preset stays relative in the URL ("the last 7 days" tomorrow too); its dates are worked out now.
  const range = Object.hasOwn(PRESETS, p.get("range") || "") ? p.get("range") : "";
  return {
    q: p.get("q") || "", sort: p.get("sort") || "relevance", page: Math.max(1, parseInt(p.get("page"), 10) || 1),
    range, since: range ? isoSeconds(Date.now() - PRESETS[range].ms) : p.get("since") || "",
    until: range ? "" : p.get("until") || "", collapse: p.get("collapse") !== "0",
    article: p.get("article") || "", filters, excluded,
    compare: p.getAll("cmp").filter((c) => c.trim()).slice(0, COMPARE_MAX),
    compareMode: p.get("cmp_mode") === "share" ? "share" : "count",
  };
}

// An excluded facet value is a NOT clause of the query language, so every endpoint (search, export, the
// histograms of Compare, saved searches) honours it with no parameter of its own. The syntax has no escape
// for a double quote; such a value is searched with its quotes as spaces.
function exclusions(excluded) {
  return Object.entries(excluded).flatMap(([facet, values]) =>
    values.map((v) => `-${facet}:"${v.replaceAll('"', " ").trim()}"`));
}

export function queryText(q, excluded) {
  const nots = exclusions(excluded);
  if (!nots.length) return q;
  return [q.trim() ? `(${q})` : "", ...nots].filter(Boolean).join(" ");
}

// What /api/search and /api/export take for this state (no paging).
export function apiParams(state, { q = state.q } = {}) {
  const p = new URLSearchParams();
  const text = queryText(q, state.excluded);
  if (text) p.set("q", text);
  if (state.sort !== "relevance") p.set("sort", state.sort);
  if (state.since) p.set("since", state.since);
  if (state.until) p.set("until", state.until);
  for (const [facet, values] of Object.entries(state.filters)) for (const v of values) p.append(facet, v);
  if (state.collapse) p.set("collapse", "true");
  return p;
}

export function urlParams(state) {
  const p = new URLSearchParams();
  if (state.q) p.set("q", state.q);
  if (state.sort !== "relevance") p.set("sort", state.sort);
  if (state.range) p.set("range", state.range);
  else {
    if (state.since) p.set("since", state.since);
    if (state.until) p.set("until", state.until);
  }
  for (const [facet, values] of Object.entries(state.filters)) for (const v of values) p.append(facet, v);
  for (const [facet, values] of Object.entries(state.excluded)) for (const v of values) p.append("not_" + facet, v);
  if (!state.collapse) p.set("collapse", "0");
  for (const c of state.compare) p.append("cmp", c);
  if (state.compare.length && state.compareMode === "share") p.set("cmp_mode", "share");
  if (state.page > 1) p.set("page", String(state.page));
  if (state.article) p.set("article", state.article);
  return p;
}

export function href(state) {
  return "?" + urlParams(state).toString();
}

// Change the search: a new URL in the history, and the page renders it (app.js listens).
export function go(change, { replace = false } = {}) {
  const next = { ...readState(), page: 1, article: "", ...change };
  if ("since" in change || "until" in change) next.range = change.range || "";
  const url = href(next);
  if (replace) history.replaceState(null, "", url); else history.pushState(null, "", url);
  window.dispatchEvent(new Event("newsworkers:state"));
}

// Include a value (click), or exclude it (NOT); doing the same again takes it off.
export function toggleFilter(facet, value, { exclude = false } = {}) {
  const state = readState();
  const filters = { ...state.filters };
  const excluded = { ...state.excluded };
  const [own, other] = exclude ? [excluded, filters] : [filters, excluded];
  const had = (own[facet] || []).includes(value);
  own[facet] = had ? own[facet].filter((v) => v !== value) : [...(own[facet] || []), value];
  if (other[facet]) other[facet] = other[facet].filter((v) => v !== value);
  for (const box of [filters, excluded]) if (box[facet] && !box[facet].length) delete box[facet];
  go({ filters, excluded });
}

export function histogramInterval(state) {
  if (state.since) {
    const span = (state.until ? parseUtc(state.until) : Date.now()) - parseUtc(state.since);
    if (span <= 3 * 86400e3) return "hour";
    if (span <= 200 * 86400e3) return "day";
  }
  return state.since || state.until ? "day" : "week";
}
