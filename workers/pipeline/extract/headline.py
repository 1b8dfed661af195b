"""The article's headline from the page's own declarations rather than its ``<title>``.

A page states its headline up to five times: the JSON-LD ``headline``, ``og:title``, ``twitter:title``,
the ``<h1>`` and the ``<title>``. Each is taken without a site name around it (metadata.clean_title).
The declared headlines come first: JSON-LD's, else og:title's — they are the publisher's own statement of
the headline, where the ``<h1>`` often carries a kicker, a live-ticker prefix or markup split over lines
(on the dev pages each alone is right more often than the ``<h1>``, and JSON-LD then og:title beats any
vote). A page declaring neither gets the wording most of its other sources share (compared by words, so
quote styles and spacing do not split a vote), ties going to the ``<h1>``, then ``twitter:title``.
"""

from __future__ import annotations

import re
import unicodedata

from lxml.html import HtmlElement

from workers.pipeline.extract.metadata import clean_title

__all__ = ["choose_headline", "headline_candidates"]

_DECLARED = ("jsonld", "og")
_VOTERS = ("h1", "twitter", "title")
_WORD = re.compile(r"\w+")
_MAX_CHARS = 400
"""A longer "headline" is a paragraph that wandered into an <h1>."""


def headline_candidates(tree: HtmlElement, jsonld_headline: str | None) -> dict[str, str]:
    """Each source's headline as the page gives it (raw, before the site name is removed)."""
    found: dict[str, str] = {}

    def put(source: str, value: object) -> None:
        text = " ".join(str(value).split()) if value is not None else ""
        if text and len(text) <= _MAX_CHARS and source not in found:
            found[source] = text

    put("jsonld", jsonld_headline)
    for h1 in tree.iter("h1"):
        put("h1", h1.text_content())
        break
    for source, xpath in (("og", '//meta[@property="og:title"]/@content'),
                          ("twitter", '//meta[@name="twitter:title" or @property="twitter:title"]/@content')):
        values = tree.xpath(xpath)
        if values:
            put(source, values[0])
    for title in tree.iter("title"):
        put("title", title.text_content())
        break
    return found


def choose_headline(candidates: dict[str, str], site_name: str | None) -> str | None:
    """The declared headline, else the one most other sources agree on; None when the page states none."""
    if not candidates:
        return None
    raw = list(candidates.values())
    cleaned = {source: clean_title(text, site_name, [t for t in raw if t != text]) or text
               for source, text in candidates.items()}
    for source in _DECLARED:
        if source in cleaned and _key(cleaned[source]):
            return cleaned[source]
    groups: dict[str, list[str]] = {}
    for source in _VOTERS:
        if source in cleaned and _key(cleaned[source]):
            groups.setdefault(_key(cleaned[source]), []).append(source)
    if not groups:
        return None
    best = max(groups.values(), key=lambda sources: (len(sources), -_VOTERS.index(sources[0])))
    return cleaned[best[0]]


def _key(text: str) -> str:
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))
