// The article view: a modal dialog. Focus moves into it, Tab stays inside (the page behind is inert), and
// Escape or the close button closes it and gives focus back to what opened it.

import { $, el, getJson } from "./dom.js";
import { FACET_TITLES, go, href, readState } from "./state.js";

const ENTITY_KINDS = ["persons", "organizations", "locations", "groups", "events"];

// The spellings merged into a kind's names (by the corpus canon or an analyst's correction), still searchable.
function aliasNote(aliases) {
  return aliases && aliases.length ? [el("span", { class: "aliases", text: "also " + aliases.join(", ") })] : [];
}
const BEHIND = "body > :not(#article-view)";
const FOCUSABLE = 'a[href], button:not([disabled]), input, select, textarea, [tabindex]:not([tabindex="-1"])';

let opener = null;  // what had focus when the view opened
let openId = "";

export function formatDate(iso) {
  return iso ? iso.slice(0, 10) : "";
}

function safeHref(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function setBehindInert(inert) {
  for (const node of document.querySelectorAll(BEHIND)) node.inert = inert;
}

export function isOpen() {
  return !$("article-view").hidden;
}

export async function openArticle(id) {
  const view = $("article-view");
  const body = $("article-body");
  if (openId === id && !view.hidden) return;
  if (view.hidden) opener = document.activeElement && document.activeElement !== document.body ? document.activeElement : null;
  openId = id;
  view.hidden = false;
  setBehindInert(true);
  $("close-article").focus();
  body.replaceChildren(el("p", { text: "Loading…" }));
  try {
    const { article, cluster } = await getJson("/api/articles/" + encodeURIComponent(id));
    if (openId !== id) return;
    const link = safeHref(article.url);
    const parts = [
      el("h1", { id: "article-title", text: article.title }),
      el("div", { class: "meta" },
        el("time", { datetime: article.published_at, text: formatDate(article.published_at) }),
        el("span", { class: "source", text: article.source_name || article.domain }),
        article.authors.length ? el("span", { text: "by " + article.authors.join(", ") }) : null,
        link ? el("a", { href: link, rel: "noopener noreferrer nofollow", target: "_blank", text: "original" }) : null),
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
        el("li", {}, el("a", { href: href({ ...readState(), article: m.id }), text: m.title,
          onclick: (e) => { e.preventDefault(); go({ ...readState(), article: m.id }); } }),
        el("span", { class: "meta", text: ` ${formatDate(m.published_at)} · ${m.source_name || m.domain || ""}` })))));
    }
    body.replaceChildren(...parts);
  } catch (error) {
    if (openId === id) body.replaceChildren(el("p", { class: "error", text: error.message }));
  }
}

// Hide the view and give focus back: to its opener, or (after a reload) to that article's title in the list.
export function closeArticle() {
  const view = $("article-view");
  if (view.hidden) return;
  view.hidden = true;
  setBehindInert(false);
  const id = openId;
  openId = "";
  const back = opener && opener.isConnected ? opener
    : document.querySelector(`#results .hit[data-id="${CSS.escape(id)}"] .title`) || $("q");
  opener = null;
  back.focus();
}

export function setupArticle() {
  const close = () => go({ ...readState(), article: "" });
  $("close-article").addEventListener("click", close);
  $("article-view").addEventListener("click", (event) => {
    if (event.target === $("article-view")) close();
  });
  document.addEventListener("keydown", (event) => {
    if (!isOpen()) return;
    if (event.key === "Escape") { event.preventDefault(); close(); return; }
    if (event.key !== "Tab") return;
    const inside = [...$("article-view").querySelectorAll(FOCUSABLE)].filter((n) => n.offsetParent !== null);
    if (!inside.length) return;
    const first = inside[0];
    const last = inside[inside.length - 1];
    const at = document.activeElement;
    if (!$("article-view").contains(at)) { event.preventDefault(); first.focus(); } else if (event.shiftKey && at === first) {
      event.preventDefault(); last.focus();
    } else if (!event.shiftKey && at === last) { event.preventDefault(); first.focus(); }
  });
}
