// The date histogram (with its y-axis; bars to click, drag across or reach by keyboard), the top-sources
// panel, and Compare: up to three queries as lines over time, in counts or as a share of all articles.

import { $, el, getJson, niceTicks, plural, svg } from "./dom.js";
import { apiParams, go, histogramInterval, parseUtc, toggleFilter } from "./state.js";

export const INTERVAL_MS = { hour: 3600e3, day: 86400e3, week: 7 * 86400e3 };

export function describe(t, interval) {
  const iso = new Date(t).toISOString();
  if (interval === "hour") return iso.slice(0, 13).replace("T", " ") + ":00 UTC";
  if (interval === "week") return "week of " + iso.slice(0, 10);
  return iso.slice(0, 10);
}

// Buckets come back only where there are matches; the chart wants every step between the first and last.
function fill(buckets, step, from = null, to = null) {
  const counts = new Map(buckets.map((b) => [Date.parse(b.start), b.count]));
  const starts = [...counts.keys()];
  if (from === null) from = Math.min(...starts);
  if (to === null) to = Math.max(...starts);
  const out = [];
  for (let t = from; t <= to && out.length < 2000; t += step) out.push({ t, count: counts.get(t) || 0 });
  return out;
}

// -- the histogram -----------------------------------------------------------------------------------------

let histogramBuckets = [];
let dragFrom = null;

export function renderHistogram(state, buckets, interval) {
  const box = $("histogram");
  box.replaceChildren();
  const step = INTERVAL_MS[interval];
  const filled = buckets.length ? fill(buckets, step) : [];
  const { top, ticks } = niceTicks(Math.max(0, ...filled.map((b) => b.count)));
  // Roving focus: one bar is in the Tab order (the selected one, else the last); arrows move between bars.
  const since = parseUtc(state.since);
  const selected = state.since ? filled.findIndex((b) => b.t + step > since) : -1;
  const focusable = selected >= 0 ? selected : filled.length - 1;
  filled.forEach((bucket, i) => {
    const bar = el("span", { class: "bar", dataset: { index: String(i) } });
    bar.style.height = (bucket.count ? Math.max(3, (100 * bucket.count) / top) : 0) + "%";
    const label = `${describe(bucket.t, interval)}: ${plural(bucket.count, "article")}`;
    box.append(el("button", {
      type: "button", class: "slot", title: label, "aria-label": label, tabindex: i === focusable ? "0" : "-1",
      dataset: { index: String(i) },
    }, bar));
  });
  box.dataset.interval = interval;
  box.dataset.top = String(top);
  histogramBuckets = filled.map((b) => b.t);
  const yAxis = $("histogram-y");
  yAxis.replaceChildren(...(filled.length ? ticks : []).map((tick) => {
    const label = el("span", { class: "tick", text: tick.toLocaleString() });
    label.style.bottom = (100 * tick) / top + "%";
    return label;
  }));
  const axis = $("histogram-axis");
  axis.replaceChildren();
  if (filled.length) {
    axis.append(el("span", { text: describe(filled[0].t, interval) }),
      el("span", { text: describe(filled[filled.length - 1].t, interval) }));
  }
  const ranged = state.since || state.until;
  $("clear-dates").hidden = !ranged;
}

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

function narrowTo(lo, hi) {
  const step = INTERVAL_MS[$("histogram").dataset.interval];
  const since = new Date(histogramBuckets[lo]).toISOString().slice(0, 19);
  const until = new Date(histogramBuckets[hi] + step - 1000).toISOString().slice(0, 19);
  go({ since, until });
}

export function setupHistogram() {
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
    narrowTo(lo, hi);
  });
  // A click from the keyboard (Enter or Space: detail 0) narrows to that bar; a mouse's went by pointerup.
  box.addEventListener("click", (event) => {
    const slot = event.target.closest(".slot");
    if (slot && event.detail === 0) {
      const i = parseInt(slot.dataset.index, 10);
      narrowTo(i, i);
    }
  });
  box.addEventListener("keydown", (event) => {
    const slot = event.target.closest(".slot");
    if (!slot) return;
    const slots = [...box.children];
    const i = slots.indexOf(slot);
    const next = { ArrowLeft: i - 1, ArrowRight: i + 1, Home: 0, End: slots.length - 1 }[event.key];
    if (next === undefined || next < 0 || next >= slots.length) return;
    event.preventDefault();
    slot.tabIndex = -1;
    slots[next].tabIndex = 0;
    slots[next].focus();
  });
}

// -- top sources -----------------------------------------------------------------------------------------------

export function renderTopSources(state, counts, total) {
  const panel = $("sources-panel");
  const list = $("top-sources");
  const top = counts.slice(0, 10);
  panel.hidden = !top.length;
  const max = Math.max(1, ...top.map((c) => c.count));
  const active = state.filters.source_name || [];
  list.replaceChildren(...top.map(({ value, count }) => {
    const share = total ? Math.round((100 * count) / total) : 0;
    const bar = el("span", { class: "source-bar" });
    bar.style.width = (100 * count) / max + "%";
    return el("li", {}, el("button", {
      type: "button", class: "source-row", "aria-pressed": String(active.includes(value)), dataset: { value },
      title: `${value}: ${plural(count, "article")}, ${share}% of the results`,
      onclick: () => toggleFilter("source_name", value),
    }, el("span", { class: "source-name", text: value }), el("span", { class: "source-track" }, bar),
    el("span", { class: "count", text: `${count.toLocaleString()} · ${share}%` })));
  }));
}

// -- Compare -------------------------------------------------------------------------------------------------

const COLORS = ["#0b5cad", "#c2410c", "#15803d"];
let compareToken = 0;

async function histogramOf(state, q, interval) {
  const params = apiParams(state, { q });
  params.delete("sort");
  params.delete("collapse");  // a histogram counts documents, grouped or not
  params.set("size", "0");
  params.set("histogram", interval);
  const result = await getJson("/api/search?" + params.toString());
  return { total: result.total, buckets: result.histogram || [] };
}

export async function renderCompare(state) {
  const box = $("compare-chart");
  state.compare.forEach((q, i) => { $(`compare-${i + 1}`).value = q; });
  for (const input of document.querySelectorAll(".compare-q")) {
    if (parseInt(input.id.split("-")[1], 10) > state.compare.length) input.value = "";
  }
  for (const radio of document.querySelectorAll('input[name="compare-mode"]')) radio.checked = radio.value === state.compareMode;
  if (!state.compare.length) { box.replaceChildren(); return; }
  $("compare").open = true;
  const token = ++compareToken;
  const interval = histogramInterval(state);
  const share = state.compareMode === "share";
  box.replaceChildren(el("p", { class: "note", text: "Counting…" }));
  try {
    const series = await Promise.all(state.compare.map((q) => histogramOf(state, q, interval)));
    // The share's denominator: every article in the same dates and filters, whatever its words.
    const all = share ? await histogramOf(state, "", interval) : null;
    if (token !== compareToken) return;
    drawCompare(box, state, series, all, interval);
  } catch (error) {
    if (token === compareToken) box.replaceChildren(el("p", { class: "error", text: "Compare did not work: " + error.message }));
  }
}

function drawCompare(box, state, series, all, interval) {
  const step = INTERVAL_MS[interval];
  const starts = [...series, ...(all ? [all] : [])].flatMap((s) => s.buckets.map((b) => Date.parse(b.start)));
  if (!starts.length) { box.replaceChildren(el("p", { class: "note", text: "None of these queries matches." })); return; }
  const from = Math.min(...starts);
  const to = Math.max(...starts);
  const totals = all ? new Map(fill(all.buckets, step, from, to).map((b) => [b.t, b.count])) : null;
  const lines = series.map((s) => fill(s.buckets, step, from, to).map((b) => ({
    t: b.t, count: b.count, value: totals ? (totals.get(b.t) ? (100 * b.count) / totals.get(b.t) : 0) : b.count,
  })));
  const { top, ticks } = niceTicks(Math.max(0, ...lines.flat().map((p) => p.value)));
  const W = 640, H = 200, L = 44, B = 22, R = 8, T = 8;
  const n = lines[0].length;
  const x = (i) => L + (n === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (n - 1));
  const y = (v) => T + (H - T - B) * (1 - v / top);
  const unit = all ? "%" : "";
  const fmt = (v) => (all ? `${v.toFixed(1)}%` : v.toLocaleString());
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "compare-svg", role: "img",
    "aria-label": `${all ? "Share of all articles" : "Articles"} per ${interval} for ${state.compare.length} queries; the table below has the figures` });
  for (const tick of ticks) {
    chart.append(svg("line", { x1: L, x2: W - R, y1: y(tick), y2: y(tick), class: "grid" }),
      svg("text", { x: L - 6, y: y(tick) + 4, class: "axis", "text-anchor": "end", text: `${tick.toLocaleString()}${unit}` }));
  }
  chart.append(svg("text", { x: L, y: H - 4, class: "axis", text: describe(from, interval) }),
    svg("text", { x: W - R, y: H - 4, class: "axis", "text-anchor": "end", text: describe(to, interval) }));
  lines.forEach((points, s) => {
    const d = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join("");
    const line = svg("path", { d, class: "series", stroke: COLORS[s], dataset: { series: String(s) } });
    chart.append(line);
    if (n <= 60) {
      points.forEach((p, i) => chart.append(svg("circle", { cx: x(i).toFixed(1), cy: y(p.value).toFixed(1), r: 2.5, fill: COLORS[s] },
        svg("title", { text: `${state.compare[s]} · ${describe(p.t, interval)}: ${fmt(p.value)}` }))));
    }
  });
  const legend = el("ul", { class: "legend" }, ...state.compare.map((q, s) => {
    const swatch = el("span", { class: "swatch" });
    swatch.style.background = COLORS[s];
    return el("li", {}, swatch, el("span", { text: q }), el("span", { class: "count", text: " " + plural(series[s].total, "article") }));
  }));
  // The figures as a table too: for a screen reader, and to copy.
  const table = el("table", { class: "compare-table" },
    el("caption", { text: all ? "Share of all articles in each period (%)" : "Articles in each period" }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Period" }),
      ...state.compare.map((q) => el("th", { scope: "col", text: q })))),
    el("tbody", {}, ...lines[0].map((p, i) => el("tr", {}, el("th", { scope: "row", text: describe(p.t, interval) }),
      ...lines.map((points) => el("td", { text: fmt(points[i].value), dataset: { count: String(points[i].count) } }))))));
  box.replaceChildren(chart, legend, el("details", { class: "compare-figures" }, el("summary", { text: "figures" }), table));
}

export function setupCompare() {
  $("compare-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const compare = [...document.querySelectorAll(".compare-q")].map((i) => i.value.trim()).filter(Boolean);
    const mode = document.querySelector('input[name="compare-mode"]:checked');
    go({ compare, compareMode: mode ? mode.value : "count" });
  });
  $("compare").addEventListener("toggle", () => {
    const first = $("compare-1");
    if ($("compare").open && !first.value) first.value = new URLSearchParams(location.search).get("q") || "";
  });
}
