"""Extract stage: main text and metadata from a page, with the feed item's
own fields as fallbacks, then language and named entities.

The result always says how it was obtained: ``body_source`` (page or feed)
and ``date_source`` (page, feed, URL or fetch time), so a document is never
left without a body or a time and a reader can tell how much to trust them.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

import py3langid
import trafilatura
from lxml import html as lxml_html
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from workers.core.errors import ExtractionError
from workers.core.ids import CURRENT_ID_VERSION, document_id, identity_url
from workers.core.models import Article, BodySource, FetchedPage
from workers.entities.recognizer import EntityRecognizer
from workers.pipeline.extract.body import extract_body, prefer_declared_body, prefer_feed_text
from workers.pipeline.extract.bylines import body_byline, choose_authors, emphasised_texts, own_names
from workers.pipeline.extract.cleanup import clean_body
from workers.pipeline.extract.headline import choose_headline, headline_candidates
from workers.pipeline.extract.jsonld import ArticleData, hydration_html, read_jsonld
from workers.pipeline.extract.lead import with_lead
from workers.pipeline.extract.metadata import (
    clean_title,
    find_page_date,
    fold_tags,
    published,
    split_authors,
    split_list,
)
from workers.pipeline.extract.places import with_places
from workers.pipeline.extract.timestamps import find_page_timestamp
from workers.settings import Settings

__all__ = ["extract_article", "html_to_text"]

_CHEAP_DATE_PARAMS = {"extensive_search": False, "original_date": True}  # its result is not used
_BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "section",
               "article", "figcaption", "pre", "dd", "dt")
_META_AUTHOR = ('//meta[@name="author" or @property="author" or @name="article:author" '
                'or @property="article:author"]/@content')
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_FEW_CHARS = 300
"""A page whose <p> elements hold fewer letters than this shows no article in its HTML (letters, not words:
Chinese and Japanese write without spaces)."""


def extract_article(page: FetchedPage, settings: Settings, ner: EntityRecognizer | None, *,
                    places: bool = True) -> Article:
    """One Article from a fetched page; raises ExtractionError only when nothing at all is usable.

    ``places=False`` leaves countries and places to the caller (a batch tags entities after extraction)."""
    item = page.item
    extraction_error: str | None = None
    document = None
    page_text = ""
    page_date: str | None = None
    page_time: datetime | None = None
    headings: list[str] = []
    declared = ArticleData()
    candidates: dict[str, str] = {}
    hydrated = ""
    meta_authors: list[str] = []
    site_names: list[str] = []
    emphasised: set[str] = set()
    if page.html.strip():
        try:
            tree = load_html(page.html)
            if tree is not None:
                # Our own date search, without the URL: trafilatura would take a date in the URL for the
                # page's own and rank it above the feed's. It runs first because extraction prunes the tree.
                page_date = find_page_date(tree)
                headings = _headings(tree)
                declared = read_jsonld(tree)
                candidates = headline_candidates(tree, declared.headline)
                meta_authors = [str(v) for v in tree.xpath(_META_AUTHOR)]
                site_names = [str(v) for v in tree.xpath('//meta[@property="og:site_name"]/@content')]
                emphasised = emphasised_texts(tree)
                page_time = find_page_timestamp(tree, declared.published, page_date)
                if _paragraph_chars(tree) < _FEW_CHARS:  # a script-rendered page: its text is in its scripts
                    hydrated = html_to_text(hydration_html(tree) or "")
                body = extract_body(
                    tree,
                    page.final_url if page.final_url.startswith("http") else None,
                    with_metadata=True,
                    date_params=_CHEAP_DATE_PARAMS,
                )
                document, page_text = body.document, with_lead(tree, body.text, _descriptions(tree))
        except Exception as exc:  # trafilatura and lxml raise many kinds; one broken page must not stop us
            extraction_error = f"extract.failed: {type(exc).__name__}: {exc}"[:500]
    for declared_body in (html_to_text(declared.body or ""), hydrated):
        if declared_body and prefer_declared_body(declared_body, page_text):
            # The declared text is the article's markup, captions and ad slots included: the same frame
            # cleaning as the extracted text.
            page_text = clean_body(declared_body, None)
    if not page_text and extraction_error is None:
        extraction_error = "extract.no_content: the page gave no main text"

    feed_text = html_to_text(item.content_html or "") or html_to_text(item.summary or "")
    body, body_source = _choose_body(page_text, feed_text, settings.min_body_chars)
    if body_source is not BodySource.PAGE and extraction_error is None:
        extraction_error = "extract.short: the page's main text was shorter than the feed's"
    from_page = body_source is BodySource.PAGE
    feed_full_text = html_to_text(item.content_html or "")
    if from_page and feed_full_text and prefer_feed_text(feed_full_text, body):
        # The feed's content:encoded is the publisher's own clean copy of the article the page shows: the page
        # stays the article (title, date, identity), the text comes from the feed without the page's leftovers.
        body, body_source = feed_full_text, BodySource.FEED
    site_name = document.sitename if document is not None else None
    page_title = choose_headline(candidates, site_name) or (
        clean_title(document.title, site_name, headings) if document is not None else None)
    # A page that is not the article (a paywall, a consent wall, a live ticker) has not the article's title
    # either, so then the feed's title comes first.
    titles = (page_title, item.title) if from_page else (item.title, page_title)
    title = _first(*titles) or _first_sentence(body)
    if not title and not body:
        raise ExtractionError("neither the page nor the feed item has a title or text",
                              reason="extract.empty", url=item.url)

    canonical = document.url if document is not None and document.url else None
    # A page that gave no document at all gives no trustworthy date either (htmldate finds digits in scripts).
    published_at, date_source = published(page_date if page_text else None, page, page_first=from_page,
                                          page_time=page_time if page_text else None)
    language = detect_language(f"{title}\n{body}")
    entities = ner.article_entities(f"{title}\n\n{body}", language).fields() if ner is not None else {}
    names = own_names(site_name, [*declared.publishers, *site_names], page.final_url, item.url)
    edge_names, edge_body = body_byline(body, emphasised) if from_page else ([], body)
    authors = choose_authors(declared.authors, split_authors(document.author if document else None), names,
                             [meta_authors, edge_names]) or item.authors
    if edge_names and {n.casefold() for n in edge_names} <= {a.casefold() for a in authors}:
        body = edge_body  # the byline line is no article text
    tags = fold_tags([*item.tags, *split_list(document.tags if document else None),
                      *split_list(document.categories if document else None)])
    article = Article(
        id=document_id(identity_url(item.url, final_url=page.final_url, canonical_url=canonical,
                                    is_article=from_page)),
        id_version=CURRENT_ID_VERSION,
        url=item.url,
        canonical_url=canonical,
        final_url=page.final_url,
        domain=_domain(canonical, page.final_url, item.url),
        source_name=item.source_name or (document.sitename if document else None) or item.feed_title,
        site_name=document.sitename if document else None,
        feed_url=item.feed_url,
        feed_title=item.feed_title,
        collections=item.collections,
        title=title or "(untitled)",
        body=body,
        summary=html_to_text(item.summary or "") or (document.description if document else None),
        authors=authors,
        language=language,
        published_at=published_at,
        date_source=date_source,
        fetched_at=page.fetched_at,
        tags=tags,
        image_url=(document.image if document else None) or item.image_url,
        word_count=len(body.split()),
        body_source=body_source,
        extraction_error=extraction_error,
        **entities,
    )
    return with_places(article, settings, ner) if places else article


def html_to_text(html: str) -> str:
    """Plain text of a feed's HTML fragment, one line per paragraph."""
    if not html.strip():
        return ""
    if "<" not in html:
        return " ".join(html.split())
    try:
        root = lxml_html.fragment_fromstring(html, create_parent="div")
    except (ValueError, SyntaxError):  # lxml's ParserError derives from these
        return " ".join(trafilatura.html2txt(html).split())
    for element in root.iter("script", "style", "noscript", "template"):
        element.drop_tree()
    for element in root.iter(*_BLOCK_TAGS):
        element.tail = "\n" + (element.tail or "")
        if element.tag != "br":
            element.text = "\n" + (element.text or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line)


def detect_language(text: str) -> str | None:
    sample = text[:5000]
    if sum(ch.isalpha() for ch in sample) < 20:
        return None
    code, _score = py3langid.classify(sample)
    return str(code)


def _choose_body(page_text: str, feed_text: str, min_chars: int) -> tuple[str, BodySource]:
    if page_text and (len(page_text) >= min_chars or len(page_text) >= len(feed_text)):
        return page_text, BodySource.PAGE
    if feed_text:
        return feed_text, BodySource.FEED
    return "", BodySource.TITLE_ONLY


def _domain(*urls: str | None) -> str:
    for url in urls:
        host = urlsplit(url or "").hostname
        if host:
            return host.removeprefix("www.")
    return "local"


def _first(*values: str | None) -> str | None:
    for value in values:
        if value and value.strip():
            return " ".join(value.split())
    return None


def _first_sentence(text: str) -> str | None:
    if not text.strip():
        return None
    first_line = text.strip().splitlines()[0]
    sentence = _SENTENCE_END.split(first_line, maxsplit=1)[0]
    return sentence[:200].rstrip() or None


def _paragraph_chars(tree: HtmlElement) -> int:
    return sum(sum(ch.isalpha() for ch in p.text_content()) for p in tree.iter("p"))


def _descriptions(tree: HtmlElement) -> list[str]:
    """The page's own summaries of the article: its meta description and og:description."""
    return [str(v) for v in tree.xpath('//meta[@name="description" or @property="og:description"]/@content')]


def _headings(tree: HtmlElement) -> list[str]:
    """The page's own headline candidates (og:title, the first <h1>), to recognise the title inside <title>."""
    found = [str(v) for v in tree.xpath('//meta[@property="og:title"]/@content')[:1]]
    found += [h1.text_content() for h1 in tree.iter("h1")][:1]
    return [" ".join(h.split()) for h in found if h.strip()]
