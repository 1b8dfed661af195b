// Builds workers/api/static/world.json, the search page's world map, from npm packages (run once when the
// outline should change; the page itself never fetches anything from outside the server):
//   npm install world-atlas@2.0.2 topojson-client@3 i18n-iso-countries@7 && node build.mjs
// world-atlas (ISC) is Natural Earth's 1:110m admin-0 countries (public domain) as TopoJSON; its ids are
// ISO 3166-1 numeric codes, mapped here to the alpha-2 codes the `countries` field holds. The outline is
// projected once (equirectangular, 2 px a degree, 720 × 340 from 85° N to 85° S) into SVG path data, so
// the page draws it without a projection library.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { feature } from "topojson-client";
import countries from "i18n-iso-countries";

const require = createRequire(import.meta.url);
const topology = JSON.parse(readFileSync(require.resolve("world-atlas/countries-110m.json"), "utf8"));
const SCALE = 2;
const TOP = 85;
const project = ([lon, lat]) => [Math.round((lon + 180) * SCALE * 10) / 10,
  Math.round((TOP - Math.max(-TOP, Math.min(TOP, lat))) * SCALE * 10) / 10];

function ringPath(ring) {
  let out = "";
  let prev = null;
  for (const point of ring) {
    const [x, y] = project(point);
    if (prev && prev[0] === x && prev[1] === y) continue;
    out += prev ? `l${+(x - prev[0]).toFixed(1)},${+(y - prev[1]).toFixed(1)}` : `M${x},${y}`;
    prev = [x, y];
  }
  return out + "z";
}

// Kosovo has no ISO 3166-1 code; GeoNames (and so the geoparser's gazetteer) uses the user-assigned XK.
const USER_ASSIGNED = { Kosovo: "XK" };

const shapes = [];
for (const f of feature(topology, topology.objects.countries).features) {
  const code = (f.id ? countries.numericToAlpha2(f.id) : undefined) || USER_ASSIGNED[f.properties.name];
  const polygons = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
  const d = polygons.flatMap((polygon) => polygon.map(ringPath)).join("");
  // A few disputed areas have no ISO code: drawn, never coloured or clicked.
  shapes.push({ code: code || null, name: code ? countries.getName(code, "en") || f.properties.name : f.properties.name, d });
}
shapes.sort((a, b) => (a.code || "~").localeCompare(b.code || "~"));
const out = { width: 360 * SCALE, height: 2 * TOP * SCALE, source: "world-atlas 2.0.2 countries-110m (Natural Earth)", shapes };
const target = new URL("../../workers/api/static/world.json", import.meta.url);
writeFileSync(target, JSON.stringify(out));
console.log(`${shapes.length} shapes, ${shapes.filter((s) => s.code).length} with a code → ${target.pathname}`);
