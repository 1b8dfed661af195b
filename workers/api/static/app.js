// The newsworkers search page: the URL holds the whole search; every article field is hostile input, so
// text goes into the DOM as text (textContent), and the one HTML we take (snippets) is rebuilt from its
// text and <b> tags only.
"use strict";

const FACETS = ["persons", "organizations", "locations", "source_name", "language", "domain"];
const FACET_TITLES = {
  persons: "People", organizations: "Organizations", locations: "Places",
  source_name: "Sources", language: "Languages", domain: "Domains", groups: "Groups", events: "Events",
};
const ENTITY_KINDS = ["persons", "organizations", "locations", "groups", "events"];
const PAGE_SIZE = 20;
const FACET_SIZE = 30;  // values fetched per facet
const FACET_SHOWN = 8;  // values shown before "more"
const INTERVAL_MS = { hour: 3600e3, day: 86400e3, week: 7 * 86400e3 };

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

// -- the search in the URL ------------------------------------------------------------------------------

function readState() {
  const p = new URLSearchParams(location.search);
  const filters = {};
  for (const facet of [...FACETS, "groups", "events"]) {
    const values = p.getAll(facet);
    if (values.length) filters[facet] = values;
  }
  return {
    q: p.get("q") || "", sort: p.get("sort") || "relevance", page: Math.max(1, parseInt(p.get("page"), 10) || 1),
    since: p.get("since") || "", until: p.get("until") || "", collapse: p.get("collapse") !== "0",
    article: p.get("article") || "", filters,
  };
}

function stateParams(state, { forApi = false } = {}) {
  const p = new URLSearchParams();
  if (state.q) p.set("q", state.q);
  if (state.sort !== "relevance") p.set("sort", state.sort);
  if (state.since) p.set("since", state.since);
  if (state.until) p.set("until", state.until);
  for (const [facet, values] of Object.entries(state.filters)) for (const v of values) p.append(facet, v);
  if (forApi) {
    if (state.collapse) p.set("collapse", "true");
  } else {
    if (!state.collapse) p.set("collapse", "0");
    if (state.page > 1) p.set("page", String(state.page));
    if (state.article) p.set("article", state.article);
  }
  return p;
}

function go(change, { replace = false } = {}) {
  const next = { ...readState(), page: 1, article: "", ...change };
  const url = "?" + stateParams(next).toString();
  if (replace) history.replaceState(null, "", url); else history.pushState(null, "", url);
  render();
}

// -- talking to the API ----------------------------------------------------------------------------------

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("; ") : "";
    throw new Error(body.error || detail || `the server answered ${response.status}`);
  }
  return body;
}

function histogramInterval(state) {
  if (state.since && state.until) {
    const span = Date.parse(state.until) - Date.parse(state.since);
    if (span <= 3 * 86400e3) return "hour";
    if (span <= 200 * 86400e3) return "day";
  }
  return state.since || state.until ? "day" : "week";
}

// -- rendering ------------------------------------------------------------------------------------------------

let renderToken = 0;

async function render() {
  const state = readState();
  const token = ++renderToken;
  $("q").value = state.q;
  $("sort").value = state.sort;
  $("collapse").checked = state.collapse;
  renderChips(state);
  // A search without an article closes the view at once, not when the new results arrive.
  if (!state.article) $("article-view").hidden = true;
  const interval = histogramInterval(state);
  const params = stateParams(state, { forApi: true });
  params.set("page", String(state.page));
  params.set("size", String(PAGE_SIZE));
  params.set("facets", FACETS.join(","));
  params.set("facet_size", String(FACET_SIZE));
  params.set("histogram", interval);
  document.body.classList.add("loading");
  try {
    const result = await getJson("/api/search?" + params.toString());
    if (token !== renderToken) return;
    showError("");
    renderFacets(state, result.facets);
    renderHistogram(state, result.histogram || [], interval);
    renderResults(state, result);
  } catch (error) {
    if (token !== renderToken) return;
    showError(error.message);
    renderResults(state, { total: 0, hits: [] });
    renderFacets(state, {});
    renderHistogram(state, [], interval);
  } finally {
    document.body.classList.remove("loading");
  }
  if (state.article) openArticle(state.article); else $("article-view").hidden = true;
}

function showError(message) {
  $("error").hidden = !message;
  $("error").textContent = message ? "That search did not work: " + message : "";
}

function toggleFilter(facet, value) {
  const filters = { ...readState().filters };
  const values = filters[facet] || [];
  filters[facet] = values.includes(value) ? values.filter((v) => v !== value) : [...values, value];
  if (!filters[facet].length) delete filters[facet];
  go({ filters });
}

function renderChips(state) {
  const chips = $("chips");
  chips.replaceChildren();
  for (const [facet, values] of Object.entries(state.filters)) {
    for (const value of values) {
      chips.append(el("button", {
        type: "button", class: "chip", title: "Remove this filter", onclick: () => toggleFilter(facet, value),
      }, el("span", { class: "chip-facet", text: (FACET_TITLES[facet] || facet) + ": " }), value, " ×"));
    }
  }
}

function renderFacets(state, facets) {
  const box = $("facets");
  box.replaceChildren();
  for (const facet of FACETS) {
    const counts = facets[facet] || [];
    const active = state.filters[facet] || [];
    // An active value stays visible (to be clicked off) even when it fell out of the top counts.
    const shown = [...counts];
    for (const value of active) if (!shown.some((c) => c.value === value)) shown.push({ value, count: 0 });
    if (!shown.length) continue;
    const list = el("ul", { class: "facet-values" });
    shown.forEach(({ value, count }, i) => {
      const on = active.includes(value);
      list.append(el("li", i >= FACET_SHOWN && !on ? { class: "extra" } : {},
        el("button", {
          type: "button", class: on ? "facet-value active" : "facet-value", "aria-pressed": String(on),
          dataset: { facet, value }, onclick: () => toggleFilter(facet, value),
        }, el("span", { class: "facet-label", text: value, title: value }), el("span", { class: "count", text: String(count) }))));
    });
    const section = el("section", { class: "facet", dataset: { facet } }, el("h2", { text: FACET_TITLES[facet] }), list);
    if (shown.length > FACET_SHOWN) {
      section.append(el("button", {
        type: "button", class: "link more", text: `more (${shown.length - FACET_SHOWN})`,
        onclick: (event) => {
          const open = section.classList.toggle("open");
          event.target.textContent = open ? "less" : `more (${shown.length - FACET_SHOWN})`;
        },
      }));
    }
    box.append(section);
  }
}

function renderHistogram(state, buckets, interval) {
  const box = $("histogram");
  box.replaceChildren();
  const step = INTERVAL_MS[interval];
  const filled = [];
  if (buckets.length) {
    const counts = new Map(buckets.map((b) => [Date.parse(b.start), b.count]));
    const first = Date.parse(buckets[0].start);
    const last = Date.parse(buckets[buckets.length - 1].start);
    for (let t = first; t <= last && filled.length < 2000; t += step) filled.push({ t, count: counts.get(t) || 0 });
  }
  const max = Math.max(1, ...filled.map((b) => b.count));
  filled.forEach((bucket, i) => {
    const bar = el("span", { class: "bar", dataset: { index: String(i) } });
    bar.style.height = (bucket.count ? Math.max(4, (100 * bucket.count) / max) : 0) + "%";
    const label = `${describe(bucket.t, interval)}: ${bucket.count} article${bucket.count === 1 ? "" : "s"}`;
    box.append(el("span", { class: "slot", title: label, "aria-label": label, dataset: { index: String(i) } }, bar));
  });
  box.dataset.interval = interval;
  histogramBuckets = filled.map((b) => b.t);
  const axis = $("histogram-axis");
  axis.replaceChildren();
  if (filled.length) {
    axis.append(el("span", { text: describe(filled[0].t, interval) }),
      el("span", { text: describe(filled[filled.length - 1].t, interval) }));
  }
  const ranged = state.since || state.until;
  $("clear-dates").hidden = !ranged;
  $("range-label").textContent = ranged
    ? `${state.since ? state.since.slice(0, 10) : "…"} to ${state.until ? state.until.slice(0, 10) : "…"}`
    : "All dates";
}

function describe(t, interval) {
  const iso = new Date(t).toISOString();
  if (interval === "hour") return iso.slice(0, 13).replace("T", " ") + ":00 UTC";
  if (interval === "week") return "week of " + iso.slice(0, 10);
  return iso.slice(0, 10);
}

// Click a bar, or press on one and drag across others, to search only those dates.
let histogramBuckets = [];
let dragFrom = null;

function slotIndex(event) {
  const target = document.elementFromPoint(event.clientX, event.clientY);
  const slot = target && target.closest ? target.closest(".slot") : null;
  return slot ? parseInt(slot.dataset.index, 10) : null;
}

function markDrag(a, b) {
  const [lo, hi] = a <= b ? [a, b] : [b, a];
  for (const slot of $("histogram").children) {
    const i = parseInt(slot.dataset.index, 10);
    slot.classList.toggle("selected", i >= lo && i <= hi);
  }
}

function setupHistogram() {
  const box = $("histogram");
  box.addEventListener("pointerdown", (event) => {
    const i = slotIndex(event);
    if (i === null) return;
    dragFrom = i;
    markDrag(i, i);
    event.preventDefault();
  });
  box.addEventListener("pointermove", (event) => {
    if (dragFrom === null) return;
    const i = slotIndex(event);
    if (i !== null) markDrag(dragFrom, i);
  });
  window.addEventListener("pointerup", (event) => {
    if (dragFrom === null) return;
    const to = slotIndex(event) ?? dragFrom;
    const [lo, hi] = dragFrom <= to ? [dragFrom, to] : [to, dragFrom];
    dragFrom = null;
    const step = INTERVAL_MS[box.dataset.interval];
    const since = new Date(histogramBuckets[lo]).toISOString().slice(0, 19);
    const until = new Date(histogramBuckets[hi] + step - 1000).toISOString().slice(0, 19);
    go({ since, until });
  });
}

function safeHref(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
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

function formatDate(iso) {
  return iso ? iso.slice(0, 10) : "";
}

function renderResults(state, result) {
  const list = $("results");
  list.replaceChildren();
  const shown = state.collapse ? "stories" : "articles";
  $("summary").textContent = result.total
    ? `${result.total.toLocaleString()} matching article${result.total === 1 ? "" : "s"}` +
      (state.collapse ? ", near-duplicates grouped" : "")
    : "No matching articles.";
  for (const hit of result.hits) list.append(resultItem(state, hit));
  const pager = $("pager");
  pager.replaceChildren();
  const pages = Math.ceil(result.total / PAGE_SIZE);
  if (state.page > 1) pager.append(el("button", { type: "button", text: "← newer", onclick: () => go({ ...state, page: state.page - 1 }) }));
  if (result.hits.length === PAGE_SIZE && state.page < pages) {
    pager.append(el("button", { type: "button", text: "more →", onclick: () => go({ ...state, page: state.page + 1 }) }));
  }
  list.dataset.shown = shown;
}

function resultItem(state, hit) {
  const title = el("a", {
    class: "title", href: "?" + stateParams({ ...state, article: hit.id }).toString(), text: hit.title || hit.url,
    onclick: (event) => { event.preventDefault(); go({ ...state, article: hit.id }); },
  });
  const meta = el("div", { class: "meta" },
    el("time", { datetime: hit.published_at || "", text: formatDate(hit.published_at) }),
    el("span", { class: "source", text: hit.source_name || hit.domain || "" }),
    hit.language ? el("span", { class: "lang", text: hit.language }) : null);
  const places = hit.locations.slice(0, 4).map((p) => el("button", {
    type: "button", class: "tag", text: p, onclick: () => toggleFilter("locations", p),
  }));
  const item = el("li", { class: "hit", dataset: { id: hit.id } }, title, meta, snippetNode(hit.snippet),
    places.length ? el("div", { class: "tags" }, ...places) : null);
  if (state.collapse && hit.duplicates > 0) {
    const members = el("ol", { class: "cluster", hidden: "" });
    const toggle = el("button", {
      type: "button", class: "link dups", text: `+${hit.duplicates} near-duplicate${hit.duplicates === 1 ? "" : "s"}`,
      onclick: async () => {
        if (!members.hidden) { members.hidden = true; return; }
        members.hidden = false;
        if (members.childElementCount) return;
        try {
          const { cluster } = await getJson("/api/articles/" + encodeURIComponent(hit.id));
          cluster.forEach((m, i) => members.append(el("li", {},
            el("a", { href: "?" + stateParams({ ...state, article: m.id }).toString(), text: m.title,
              onclick: (e) => { e.preventDefault(); go({ ...state, article: m.id }); } }),
            el("span", { class: "meta", text: ` ${formatDate(m.published_at)} · ${m.source_name || m.domain || ""}` +
              (i === 0 ? " · first reported" : "") }))));
        } catch (error) {
          members.append(el("li", { text: error.message }));
        }
      },
    });
    item.append(toggle, members);
  }
  return item;
}

// The spellings merged into a kind's names (by the corpus canon or an analyst's correction), still searchable.
function aliasNote(aliases) {
  return aliases && aliases.length ? [el("span", { class: "aliases", text: "also " + aliases.join(", ") })] : [];
}

async function openArticle(id) {
  const view = $("article-view");
  const body = $("article-body");
  view.hidden = false;
  body.replaceChildren(el("p", { text: "Loading…" }));
  try {
    const { article, cluster } = await getJson("/api/articles/" + encodeURIComponent(id));
    const href = safeHref(article.url);
    const parts = [
      el("h1", { text: article.title }),
      el("div", { class: "meta" },
        el("time", { datetime: article.published_at, text: formatDate(article.published_at) }),
        el("span", { class: "source", text: article.source_name || article.domain }),
        article.authors.length ? el("span", { text: "by " + article.authors.join(", ") }) : null,
        href ? el("a", { href, rel: "noopener noreferrer nofollow", target: "_blank", text: "original" }) : null),
    ];
    const entities = el("dl", { class: "entities" });
    for (const kind of ENTITY_KINDS) {
      if (!article[kind].length) continue;
      entities.append(el("dt", { text: FACET_TITLES[kind] || kind }),
        el("dd", {}, ...article[kind].map((value) => el("button", {
          type: "button", class: "tag", text: value, dataset: { kind },
          onclick: () => {
            const filters = { ...readState().filters };
            filters[kind] = [...new Set([...(filters[kind] || []), value])];
            go({ filters });
          },
        })), ...aliasNote((article.aliases_by_kind || {})[kind])));
    }
    parts.push(entities);
    for (const paragraph of article.body.split(/\n+/)) if (paragraph.trim()) parts.push(el("p", { text: paragraph }));
    if (cluster.length > 1) {
      parts.push(el("h2", { text: "Near-duplicates" }), el("ol", { class: "cluster" }, ...cluster.map((m) =>
        el("li", {}, el("a", { href: "?" + stateParams({ ...readState(), article: m.id }).toString(), text: m.title,
          onclick: (e) => { e.preventDefault(); go({ ...readState(), article: m.id }); } }),
        el("span", { class: "meta", text: ` ${formatDate(m.published_at)} · ${m.source_name || m.domain || ""}` })))));
    }
    body.replaceChildren(...parts);
  } catch (error) {
    body.replaceChildren(el("p", { class: "error", text: error.message }));
  }
}

// -- saved searches (the alerts API; hidden when the server has none) -------------------------------------

async function setupSave() {
  let response;
  try {
    response = await fetch("/api/alerts", { headers: { Accept: "application/json" } });
  } catch {
    return;
  }
  if (response.status === 404) return;
  $("save-box").hidden = false;
  $("save").addEventListener("click", async () => {
    const state = readState();
    const name = prompt("A name for this saved search (letters, digits, - and _):", "");
    if (!name) return;
    const post = await fetch("/api/alerts", {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ name, query: state.q, filters: state.filters, webhook: null }),
    });
    const body = await post.json().catch(() => ({}));
    if (!post.ok) { showError(body.error || body.detail || `saving answered ${post.status}`); return; }
    const link = $("feed-link");
    const href = body.feed_url && body.feed_url.startsWith("/") ? body.feed_url : null;
    if (href) { link.href = href; link.textContent = "Atom feed: " + href; link.hidden = false; }
  });
}

// -- wiring ---------------------------------------------------------------------------------------------------

function setup() {
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    go({ ...readState(), q: $("q").value.trim(), page: 1, article: "" });
  });
  $("sort").addEventListener("change", () => go({ ...readState(), sort: $("sort").value, article: "" }));
  $("collapse").addEventListener("change", () => go({ ...readState(), collapse: $("collapse").checked, article: "" }));
  $("clear-dates").addEventListener("click", () => go({ ...readState(), since: "", until: "", article: "" }));
  $("close-article").addEventListener("click", () => go({ ...readState(), article: "" }));
  $("article-view").addEventListener("click", (event) => {
    if (event.target === $("article-view")) go({ ...readState(), article: "" });
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("article-view").hidden) go({ ...readState(), article: "" });
  });
  window.addEventListener("popstate", render);
  setupHistogram();
  setupSave();
  render();
}

document.addEventListener("DOMContentLoaded", setup);
