// The world map: the current result set by country (the `countries` facet: ISO 3166-1 alpha-2 codes), a
// click filters by that country. The outline is /static/world.json, built offline from the world-atlas
// package (Natural Earth 1:110m; see config/world-map/build.mjs), so no tile server and no internet.

import { $, el, getJson, plural, svg } from "./dom.js";
import { apiParams, toggleFilter } from "./state.js";

const SHADES = 5;
let world = null;
let mapToken = 0;

async function loadWorld() {
  if (!world) world = getJson("/static/world.json").catch((error) => { world = null; throw error; });
  return world;
}

export async function countryNames() {
  try {
    const { shapes } = await loadWorld();
    return new Map(shapes.filter((s) => s.code).map((s) => [s.code, s.name]));
  } catch {
    return new Map();
  }
}

// Shade classes on a log scale: one article and a thousand must both show, and differ.
function shade(count, max) {
  if (!count) return 0;
  if (max <= 1) return SHADES;
  return 1 + Math.min(SHADES - 1, Math.floor(((SHADES - 1) * Math.log(count)) / Math.log(max)));
}

export async function renderMap(state) {
  const token = ++mapToken;
  const panel = $("map-panel");
  const params = apiParams(state);
  params.delete("sort");
  params.set("size", "0");
  params.set("facets", "countries");
  params.set("facet_size", "100");
  let counts;
  let shapes;
  let width;
  let height;
  try {
    const [result, outline] = await Promise.all([getJson("/api/search?" + params.toString()), loadWorld()]);
    counts = new Map((result.facets.countries || []).map((c) => [c.value.toUpperCase(), c.count]));
    ({ shapes, width, height } = outline);
  } catch {
    // A backend without the countries facet (or a search that failed, which the page already says): no map.
    if (token === mapToken) panel.hidden = true;
    return;
  }
  if (token !== mapToken) return;
  panel.hidden = false;
  const max = Math.max(0, ...counts.values());
  const active = new Set(state.filters.countries || []);
  const drawn = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "world", role: "group",
    "aria-label": "Articles by country; choose a country to filter by it" });
  for (const { code, name, d } of shapes) {
    const count = (code && counts.get(code)) || 0;
    const on = code && active.has(code);
    const level = shade(count, max);
    const label = `${name}: ${plural(count, "article")}`;
    const path = svg("path", { d, class: `country s${level}${on ? " active" : ""}`, dataset: { code: code || "", count: String(count) } },
      svg("title", { text: label }));
    if (code && (count || on)) {
      // Only countries with articles (or the one filtered on) take focus: the rest have nothing to show.
      path.setAttribute("tabindex", "0");
      path.setAttribute("role", "button");
      path.setAttribute("aria-label", label);
      path.setAttribute("aria-pressed", String(Boolean(on)));
      path.addEventListener("click", () => toggleFilter("countries", code));
      path.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); toggleFilter("countries", code); }
      });
    }
    drawn.append(path);
  }
  $("map").replaceChildren(drawn);
  const named = [...counts.keys()].filter((c) => shapes.some((s) => s.code === c)).length;
  $("map-note").replaceChildren(counts.size
    ? el("span", { text: `${plural(counts.size, "country", "countries")} named${named < counts.size ? ` (${counts.size - named} not on this map)` : ""}; darker is more, up to ${plural(max, "article")}.` })
    : el("span", { text: "No country is known for these articles." }));
}
