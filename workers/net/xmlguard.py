"""Refuse feeds that declare XML entities, before any parser expands them.

A feed is XML from a stranger. Entity declarations are how the
billion-laughs bomb (a few hundred bytes that expand to gigabytes) and
external-entity reads (``<!ENTITY x SYSTEM "file:///etc/passwd">``) work, and
no news feed needs them. defusedxml's expat reader raises at the first
entity declaration or external reference; we run it over the prolog only and
stop at the root element, so a clean feed costs a few microseconds however
long it is. Documents that are not XML (JSON Feed, HTML) are not ours to
judge here: the feed parser reports them.
"""

from __future__ import annotations

import re
import xml.sax
from xml.sax.handler import ContentHandler

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

from workers.core.errors import FeedError

__all__ = ["refuse_xml_entities"]

_CHUNK = 16 * 1024
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)


class _RootReached(Exception):
    pass


class _PrologParser(DefusedExpatParser):
    """Entity declarations raise; an external DTD (old RSS 0.91 names Netscape's) is skipped, never fetched."""

    def __init__(self) -> None:
        super().__init__(forbid_dtd=False, forbid_entities=True, forbid_external=False)

    def reset(self) -> None:
        super().reset()
        self._parser.ExternalEntityRefHandler = lambda *_args: 1  # 1 = handled: read nothing


class _StopAtRoot(ContentHandler):
    def startElement(self, name: str, attrs: object) -> None:
        raise _RootReached

    def startElementNS(self, name: object, qname: str, attrs: object) -> None:
        raise _RootReached


def refuse_xml_entities(content: bytes, *, url: str | None = None) -> None:
    """Raise FeedError ``feed.xml_entities`` when the document declares or references XML entities."""
    parser = _PrologParser()
    parser.setContentHandler(_StopAtRoot())
    try:
        for start in range(0, len(content), _CHUNK):
            parser.feed(content[start : start + _CHUNK])
    except _RootReached:
        return
    except DefusedXmlException as exc:
        raise FeedError(f"the feed declares XML entities, which are never expanded: {exc}",
                        reason="feed.xml_entities", url=url) from exc
    except (xml.sax.SAXException, ValueError, LookupError):
        # Not well-formed (or an encoding expat lacks): the feed parser's problem, unless an entity
        # declaration hides in the part expat could not read.
        if _ENTITY_DECL.search(content[:256 * 1024]):
            raise FeedError("the feed declares XML entities, which are never expanded",
                            reason="feed.xml_entities", url=url) from None
