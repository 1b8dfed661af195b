"""The article body of a page: two trafilatura passes combined, then leftovers cleaned.

trafilatura's precision mode drops most page furniture but sometimes throws
the article away with it (a page whose text sits in unusual markup); its
recall mode keeps every paragraph and some furniture. We take the precise
text unless it kept too little of what the broad pass found (run only when
the precise text is short beside the page's paragraphs), then strip the
frame both leave (workers/pipeline/extract/cleanup.py). When the feed item carries the
full text (content:encoded) and it agrees with the page, the feed's text is
the publisher's own clean copy and wins.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import trafilatura
from lxml.html import HtmlElement

from workers.pipeline.extract.cleanup import clean_body

__all__ = ["BodyExtraction", "agreement", "choose_mode", "drop_link_lists", "extract_body", "prefer_declared_body",
           "prefer_feed_text"]

_WORD = re.compile(r"\w+")
MIN_PRECISE_SHARE = 0.5
"""The precise text is kept when it has at least this share of the broad text's words."""
FEED_IN_PAGE = 0.9
"""Share of the feed text's 4-word shingles the page text must have: the feed's copy is the page's article."""
PAGE_IN_FEED = 0.75
"""Share of the page text's 4-word shingles the feed text must have: what the page adds is leftovers, not a
longer article than the feed's (a teaser or truncated feed copy never replaces the page)."""


MIN_LINK_ITEMS = 2
"""A list needs this many items to be judged a list of links."""
LINK_LIST_SHARE = 0.75
"""Share of a list's items that must be links for the list to be dropped before extraction."""
LINK_ITEM_SHARE = 0.6
"""Share of an item's characters inside links for the item to count as a link."""

DECLARED_LONGER = 1.25
"""The JSON-LD articleBody must have this many times the page text's words to replace it."""
PAGE_IN_DECLARED = 0.9
"""Share of the page text's 4-word shingles the articleBody must have: the page text is a part of it."""
PAGE_FAILED = 0.25
"""A page text under this share of the articleBody's words missed the article whatever it holds."""


@dataclass(frozen=True)
class BodyExtraction:
    """The body text and how it was chosen (``precise``, ``broad``, or ``none``)."""

    text: str
    mode: str
    document: Any | None
    """trafilatura's Document of the precise pass, with its metadata when asked for."""


def extract_body(tree: HtmlElement, url: str | None, *, title: str | None = None,
                 with_metadata: bool = False, date_params: dict[str, Any] | None = None) -> BodyExtraction:
    """Body of a parsed page; ``title`` (when known) lets the cleaner drop the headline repeated on top.

    trafilatura copies a tree it is given, so both passes read the same untouched page.
    """
    drop_link_lists(tree)
    precise_doc = trafilatura.bare_extraction(
        tree, url=url, favor_precision=True, include_comments=False, with_metadata=with_metadata,
        date_extraction_params=date_params,
    )
    precise = (precise_doc.text or "").strip() if precise_doc is not None else ""
    broad = ""
    # The broad pass costs as much as the precise one, so it runs only when the precise text is short
    # beside all the paragraph text of the page: the one case where it can change the choice.
    if _words(precise) < MIN_PRECISE_SHARE * _paragraph_words(tree):
        broad_doc = trafilatura.bare_extraction(
            tree, url=url, favor_recall=True, fast=True, include_comments=False, with_metadata=False,
        )
        broad = (broad_doc.text or "").strip() if broad_doc is not None else ""
    mode = choose_mode(precise, broad)
    chosen = {"precise": precise, "broad": broad}.get(mode, "")
    heading = title or (precise_doc.title if precise_doc is not None and with_metadata else None)
    text = clean_body(chosen, heading) if chosen else ""
    return BodyExtraction(text=text, mode=mode, document=precise_doc)


def choose_mode(precise: str, broad: str) -> str:
    """``precise`` unless it lost most of the broad pass's words (then ``broad``); ``none`` if both are empty."""
    precise_words, broad_words = _words(precise), _words(broad)
    if precise_words == 0 and broad_words == 0:
        return "none"
    if precise_words >= MIN_PRECISE_SHARE * broad_words:
        return "precise"
    return "broad"


def agreement(text: str, other: str) -> float:
    """Share of the text's 4-word shingles (lower-cased) that the other text also has; 0 when it has none."""
    mine, theirs = _shingles(text), _shingles(other)
    total = sum(mine.values())
    return sum((mine & theirs).values()) / total if total else 0.0


def prefer_feed_text(feed_text: str, page_text: str) -> bool:
    """The feed's full text (content:encoded) replaces the page's when the two agree both ways."""
    return agreement(feed_text, page_text) >= FEED_IN_PAGE and agreement(page_text, feed_text) >= PAGE_IN_FEED


def prefer_declared_body(declared: str, page_text: str) -> bool:
    """The page's JSON-LD articleBody replaces the extracted text when it is the longer article: the text
    shown is a part of it (a page that renders the rest behind a "read more", in scripts or in pieces the
    extractor dropped), or so much shorter that the extraction missed the article."""
    declared_words, page_words = _words(declared), _words(page_text)
    if declared_words < DECLARED_LONGER * max(page_words, 1):
        return False
    return page_words < PAGE_FAILED * declared_words or agreement(page_text, declared) >= PAGE_IN_DECLARED


def drop_link_lists(tree: HtmlElement) -> None:
    """Remove the lists whose items are links (related stories, a source list, a topic bar) from the page:
    an article's own list says things, a list of links points elsewhere. Mutates ``tree``."""
    for listing in list(tree.iter("ul", "ol")):
        items = [item for item in listing if item.tag == "li"]
        if len(items) < MIN_LINK_ITEMS:
            continue
        linked = sum(_is_link_item(item) for item in items)
        if linked >= LINK_LIST_SHARE * len(items) and listing.getparent() is not None:
            listing.drop_tree()


def _is_link_item(item: HtmlElement) -> bool:
    text = " ".join(item.text_content().split())
    if not text:
        return True
    link = sum(len(" ".join(a.text_content().split())) for a in item.iter("a"))
    return link >= LINK_ITEM_SHARE * len(text)


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _paragraph_words(tree: HtmlElement) -> int:
    return sum(_words(paragraph.text_content()) for paragraph in tree.iter("p"))


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    words = _WORD.findall(text.casefold())
    return Counter(tuple(words[i:i + 4]) for i in range(len(words) - 3))
