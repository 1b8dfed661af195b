"""The article's lead (standfirst): the sentence or two under the headline that extractors leave out.

Pages print a lead between the ``<h1>`` and the first paragraph of the body, in its own markup (a teaser
class, a ``<strong>`` or ``<h2>``) that the extractor takes for page furniture. It is the article's first
text all the same. We walk the page's text in document order from the first ``<h1>`` to the block where the
extracted body begins; a block on that stretch that reads as prose (enough words, ending like a sentence,
outside figures, navigation and links) and that the body does not hold already is put in front of it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from lxml.html import HtmlElement

from workers.pipeline.extract.cleanup import is_caption

__all__ = ["find_leads", "with_lead"]

_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?…。！？\"”»“«’)]\s*$")
_BLOCKS = frozenset({"p", "div", "h2", "h3", "h4", "li", "section", "header", "article", "main", "td", "dd",
                     "blockquote", "ul", "ol", "table", "body", "aside", "figure", "footer", "nav", "form"})
_OUTSIDE = frozenset({"script", "style", "noscript", "template", "figure", "figcaption", "aside", "nav", "footer",
                      "form", "button", "select", "label", "time", "svg", "picture", "iframe"})
_MIN_WORDS = 8
"""A lead is a sentence: fewer words than this is a kicker, a byline or a date."""
_LONG_WORDS = 12
"""A block this long is prose even without a closing full stop (leads often have none)."""
_MIN_CJK_CHARS = 25
"""The same floor for scripts written without spaces, in letters."""
_MAX_BLOCKS = 40
"""Blocks walked past the headline before the body must have begun; further on, the body is elsewhere."""
_MAX_LEADS = 2
_LEAD_MARK = re.compile(r"lead|teaser|intro|standfirst|summary|dek\b|deck|subtitle|sub-title|subline|"
                        r"description|excerpt|abstract|kicker|perex|chapo|entradilla|sottotitolo|ingress|"
                        r"vorspann|subheadline|sub-headline|strapline", re.IGNORECASE)
"""Class or id names of the block (or its ancestors) that say what it is: the page's lead, in the words
templates use for it across languages."""
_CAPTION_MARK = re.compile(r"caption|credit|copyright|photo|image|\bimg|media|gallery|figure|bild|video|"
                           r"summary-list|key-?points|author|byline", re.IGNORECASE)


def find_leads(tree: HtmlElement, body: str, descriptions: list[str]) -> list[str]:
    """The lead paragraphs between the page's first ``<h1>`` and the start of ``body``, in page order.

    ``descriptions`` are the page's own summaries (meta description, og:description, JSON-LD's)."""
    lines = [line for line in body.splitlines() if _key(line)]
    h1 = next(tree.iter("h1"), None)
    if not lines or h1 is None:
        return []
    start, held = _key(lines[0]), _key(body)
    summaries = [key for key in (_key(d) for d in descriptions) if len(key) >= 20]
    found: list[str] = []
    for index, block in enumerate(_blocks_after(h1)):
        key = _key(block.text)
        if index >= _MAX_BLOCKS:
            return []
        if not key:
            continue
        if key.startswith(start[:200]) or start.startswith(key):
            return found[-_MAX_LEADS:]
        if key in held or not _is_prose(block.text) or _CAPTION_MARK.search(block.marks):
            continue
        if _LEAD_MARK.search(block.marks) or any(_same_start(key, summary) for summary in summaries):
            found.append(block.text)
    return []


def with_lead(tree: HtmlElement, body: str, descriptions: list[str]) -> str:
    """The body with its lead in front, when the page has one the body lacks."""
    leads = find_leads(tree, body, descriptions) if body else []
    return "\n".join([*leads, body]) if leads else body


def _same_start(key: str, summary: str) -> bool:
    """The block is the summary, or the summary cut short (descriptions end in "..." past a length)."""
    return key == summary or (len(summary) >= 60 and key.startswith(summary[:-12]))


@dataclass(frozen=True)
class Block:
    """One block's text and the class and id names of it and its ancestors below the walk's start."""

    text: str
    marks: str


def _blocks_after(h1: HtmlElement) -> list[Block]:
    """The text of the page after the headline, one string per block element, in document order; a block
    mostly made of links (a teaser list, a topic bar) counts as empty."""
    blocks: list[Block] = []
    current: list[str] = []
    linked = [0]
    marks: list[str] = [""]

    def flush() -> None:
        text = " ".join("".join(current).split())
        if text:
            blocks.append(Block("" if 2 * linked[0] > len(text) else text, marks[-1]))
        current.clear()
        linked[0] = 0

    def add(text: str, in_link: bool) -> None:
        current.append(text)
        if in_link:
            linked[0] += len(text.strip())

    def walk(element: HtmlElement, skip: bool, in_link: bool) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        hidden = skip or tag in _OUTSIDE
        link = in_link or tag == "a"
        block = tag in _BLOCKS
        if block:
            flush()
        marks.append(f"{marks[-1]} {element.get('class', '')} {element.get('id', '')}".lower()[-300:])
        if element.text and not hidden:
            add(element.text, link)
        for child in element:
            walk(child, hidden, link)
            if len(blocks) > _MAX_BLOCKS:
                break
        if block or len(blocks) > _MAX_BLOCKS:
            flush()
        marks.pop()
        if element.tail and not skip:
            add(element.tail, in_link)

    # Everything after the h1: its following siblings, then those of each ancestor in turn.
    node: HtmlElement | None = h1
    if h1.tail:
        add(h1.tail, False)
    while node is not None and len(blocks) <= _MAX_BLOCKS:
        for sibling in node.itersiblings():
            walk(sibling, False, False)
            if len(blocks) > _MAX_BLOCKS:
                break
        node = node.getparent()
        flush()
    flush()
    return blocks


def _is_prose(text: str) -> bool:
    if is_caption(text):
        return False
    words = [word for word in _WORD.findall(text) if not word.isdigit()]
    letters = sum(ch.isalpha() for ch in text)
    spaced = len(words) >= _LONG_WORDS or (len(words) >= _MIN_WORDS and _SENTENCE_END.search(text) is not None)
    unspaced = len(words) < _MIN_WORDS and letters >= _MIN_CJK_CHARS and _is_cjk(text)
    return spaced or (unspaced and _SENTENCE_END.search(text) is not None)


def _is_cjk(text: str) -> bool:
    return any(unicodedata.name(ch, "").startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL")) for ch in text[:50])


def _key(text: str) -> str:
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))
