"""The article's own schema.org JSON-LD: headline, dates, authors and publisher, as the page declares them.

Pages nest their objects in many shapes (a list, an ``@graph``, a WebPage whose ``mainEntity`` is the
article); every object is visited and the first one whose type is an article kind (or, failing that, the
first with a headline) is the article. Broken JSON in one block does not hide the others.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml.html import HtmlElement

__all__ = ["ArticleData", "Person", "hydration_html", "read_jsonld"]

_ARTICLE_TYPE = re.compile(r"(Article|BlogPosting|Report|LiveBlogPosting|NewsArticle|Posting)$")
_CONTROL = re.compile(r"[\x00-\x1f]")


@dataclass(frozen=True)
class Person:
    """One name from an ``author`` field, and whether the page said it is an organisation."""

    name: str
    organization: bool


@dataclass(frozen=True)
class ArticleData:
    headline: str | None = None
    published: str | None = None
    modified: str | None = None
    body: str | None = None
    authors: list[Person] = field(default_factory=list)
    publishers: list[str] = field(default_factory=list)


def read_jsonld(tree: HtmlElement) -> ArticleData:
    """The page's article object (empty when it declares none)."""
    objects = [obj for block in tree.xpath('//script[@type="application/ld+json"]')
               for obj in _objects(_load(block.text_content()))]
    article = next((o for o in objects if any(_ARTICLE_TYPE.search(t) for t in _types(o))), None)
    if article is None:
        article = next((o for o in objects if isinstance(o.get("headline"), str)), None)
    publishers = [name for o in objects if "Organization" in " ".join(_types(o)) or "NewsMediaOrganization"
                  in _types(o) for name in _names(o)]
    if article is None:
        return ArticleData(publishers=publishers)
    publishers = [*_names(article.get("publisher")), *publishers]
    dated = next((o for o in [article, *objects] if _text(o.get("datePublished"))), article)
    return ArticleData(
        headline=_text(article.get("headline")),
        published=_text(dated.get("datePublished")) or _text(article.get("dateCreated")),
        modified=_text(article.get("dateModified")),
        body=_markup(article.get("articleBody")),
        authors=list(_people(article.get("author"))) + list(_people(article.get("creator"))),
        publishers=list(dict.fromkeys(publishers)),
    )


def _load(text: str) -> object:
    text = text.strip().removeprefix("<!--").removesuffix("-->").strip().rstrip(";")
    try:
        return json.loads(text)
    except ValueError:
        try:  # raw newlines and tabs inside strings are the usual breakage
            return json.loads(_CONTROL.sub(" ", text))
        except ValueError:
            return None


def _objects(value: object) -> Iterator[dict[str, object]]:
    if isinstance(value, list):
        for item in value:
            yield from _objects(item)
    elif isinstance(value, dict):
        yield value
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement"):
            if isinstance(value.get(key), (list, dict)):
                yield from _objects(value[key])


def _types(obj: dict[str, object]) -> list[str]:
    kind = obj.get("@type")
    return [str(k) for k in kind] if isinstance(kind, list) else [str(kind)] if kind else []


def _text(value: object) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    if not isinstance(value, str):
        return None
    text = " ".join(html.unescape(html.unescape(value)).split())
    return text or None


def _markup(value: object) -> str | None:
    """articleBody as the page gives it, HTML included; escaped HTML ("&lt;p&gt;") is unescaped once."""
    if not isinstance(value, str) or not value.strip():
        return None
    return html.unescape(value) if "&lt;" in value else value


def _names(value: object) -> list[str]:
    return [person.name for person in _people(value)]


def _people(value: object) -> Iterator[Person]:
    if isinstance(value, list):
        for item in value:
            yield from _people(item)
    elif isinstance(value, str):
        if value.strip() and not value.strip().startswith("http"):
            yield Person(" ".join(html.unescape(value).split()), organization=False)
    elif isinstance(value, dict):
        name = value.get("name")
        if isinstance(name, list):
            name = " ".join(str(n) for n in name)
        if not isinstance(name, str) and isinstance(value.get("givenName"), str):
            name = f"{value['givenName']} {value.get('familyName') or ''}"
        if isinstance(name, str) and name.strip():
            organization = any("Organization" in t or t in ("Corporation", "NewsMediaOrganization")
                               for t in _types(value))
            yield Person(" ".join(html.unescape(name).split()), organization)


_STRING = re.compile(r'"((?:[^"\\]|\\.){200,})"')
_PARAGRAPH = re.compile(r"<p\b", re.IGNORECASE)
_MIN_PARAGRAPHS = 3


def hydration_html(tree: HtmlElement) -> str | None:
    """The longest article-like HTML inside the page's inline scripts, or None.

    Script-rendered pages (React, Next.js, Nuxt) ship the article as an HTML string in their hydration data
    (``__NEXT_DATA__``, a dehydrated query cache, ``window.__INITIAL_STATE__``) and an empty ``<body>``: a
    JSON string with several ``<p>`` in it is that article. Only read when the page itself gave no text.
    """
    best: tuple[int, str] | None = None
    for script in tree.iter("script"):
        if (script.get("type") or "").endswith("ld+json"):
            continue
        for match in _STRING.finditer(script.text or ""):
            try:
                value = json.loads(f'"{match.group(1)}"')
            except ValueError:
                continue
            paragraphs = len(_PARAGRAPH.findall(value))
            if paragraphs >= _MIN_PARAGRAPHS and (best is None or len(value) > best[0]):
                best = (len(value), value)
    return best[1] if best else None
