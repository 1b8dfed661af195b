"""Leftovers that extractors keep around an article's body, removed by general features.

The extractor hands over the right block of the page but often with its
frame: the headline repeated at the top, a dateline or byline, captions,
"Read more" teasers in the middle, and at the end the credits, share and
follow lines, copyright, tag lists and the comment section's header. Each
rule here looks at one line's shape and wording, never at the site it came
from, and drops whole lines only.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

__all__ = ["clean_body", "is_caption", "is_heading_repeat"]

_WORD = re.compile(r"\w+")
_TERMINAL = re.compile(r"[.!?…:;\"”’»)]\s*$")
_DATE = re.compile(
    r"\b(19|20)\d\d\b|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b|\b\d{1,2}:\d\d\b"
)
_MONTH = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\b", re.IGNORECASE
)
# A line that only announces something around the article (anywhere in the body).
_TEASER = re.compile(
    r"^\s*[\[(]?\s*(read more|see more|more|also|related( posts?| articles?| stories)?|also on [\w.]+|"
    r"recommended|don'?t miss|watch|listen|video|trending|most read|you may also like|you might also like|"
    # the same announcements in other languages: de, fr, es, it, pt, nl, no/da/sv, pl, cs, tr, ru, ja, zh, ko
    r"lesen sie (auch|mehr)|auch interessant|mehr zum thema|weiterlesen|das könnte sie auch interessieren|"
    r"(à )?lire aussi|à lire( également)?|voir aussi|lee también|leer más|te puede interesar|"
    r"(puede|podría) interesarte|leggi anche|potrebbe interessarti|leia (também|mais)|veja também|"
    r"lees ook|les også|læs også|läs också|läs mer|czytaj (też|także|więcej)|přečtěte si (také|též)|"
    r"ayrıca (okuyun|bakınız)|ilginizi çekebilir|читайте также|смотрите также|関連記事|あわせて読みたい|"
    r"相关阅读|相关新闻|관련 ?기사)"
    r"\s*(:|\.\.\.|…|$)",
    re.IGNORECASE,
)
_ADVERT = re.compile(r"^\s*(advertisement|advertising|sponsored( content)?|anzeige|werbung|publicité|publicidad|"
                     r"pubblicità|reklame|annonse|annons|reklama|reklam|реклама|広告|광고|"
                     r"\$\$[A-Z_]+\$\$|\{\{[\w.]+\}\})\s*$",
                     re.IGNORECASE)
# Lines that close an article: credits, calls to follow or share, copyright, comment headers.
_TRAILER = re.compile(
    r"^\s*[<\[«]?\s*(\(?(additional )?(reporting|writing|editing) by\b|[\w .'’-]{2,60} contributed (to )?(this )?"
    r"(report|reporting|story)\b|follow (us|\S+( \S+){0,5}) on (twitter|facebook|instagram|linkedin)|"
    r"like this (story|article)|share (this|it)\b|subscribe\b|sign up\b|get (the|our) .*newsletter|"
    r"(copyright|©|\(c\) ?(19|20)\d\d)|all rights reserved|"
    r"\d* ?(user )?comments?( \(\d+\))?$|\d+ thoughts? on\b|leave a (reply|comment)|post a comment|"
    r"loading comments|comments are closed|join (the )?discussion|want to join the discussion|"
    r"feel free to contribute|you must (be )?log(ged)? ?in to post|write to [\w .'’-]+ at \S+@|"
    r"source: |filed under|tags?:?$|click here\b|tell us what you think|"
    # other languages: sources and agency credits, rights, corrections, subscriptions, sharing, newsletters
    r"(quelle|fuente|fonte|kilde|källa|źródło|zdroj|kaynak|источник)\s*:|mit (agentur)?material|"
    r"alle rechte vorbehalten|tous droits réservés|todos los derechos reservados|tutti i diritti riservati|"
    r"fehler gefunden|hat ihnen (dieser|der) artikel gefallen|wie hat ihnen (dieser|der) artikel gefallen|"
    r"il vous reste .{0,20} à lire|la suite est réservée|kostenlos testen|newsletter|teilen\b|partager\b|"
    r"compartir\b|condividi\b|kommentare?\b|commentaires?\b|comentarios?\b|무단 ?전재|기사 url이 복사|"
    r"分享|転載禁止|無断転載)",
    re.IGNORECASE,
)
# An address alone on a line (the author's e-mail or handle) closes an article; inside one it may be content.
_CONTACT = re.compile(r"^\s*(\S+@\S+\.\w+|(https?://|www\.|twitter\.com/|@)\S+)\s*$", re.IGNORECASE)
_CAPTION_CREDIT = re.compile(
    r"(©|\(credit|\bphoto(graph)?s?( by)?:|\bimage:|\bpicture:|getty images|\bap photo\b|/ ?reuters$|"
    r"\breuters$|\bafp$|\bshutterstock\b|\bistock\b)",
    re.IGNORECASE,
)
_SECTION_HEADER = re.compile(
    r"^\s*(tags?|topics?|related( posts?| articles?| stories)?|more (on|from|about) .{0,40}|"
    r"you may also like|you might also like|read next|recommended|comments?|\d+ comments?)\s*:?\.{0,3}\s*$",
    re.IGNORECASE,
)
_TAIL_WORDS = 80
"""At most this many words may follow a closing section header for both to be dropped."""
_CLICK_TO_TWEET = re.compile(r"\s*click to tweet\s*$", re.IGNORECASE)
_HEAD_LINES = 4
"""How many lines at the top may be a repeated headline, dateline or byline."""
_TAIL_LINES = 12
"""How many lines at the end may be trailer (credits, follow/share, copyright, comments header)."""
_SHORT_WORDS = 25
"""A line this short (in words) may be a caption, a teaser or a trailer; longer ones are prose."""


def clean_body(text: str, title: str | None = None) -> str:
    """The body without its frame; the text is returned unchanged when a rule would leave nothing."""
    lines = [_CLICK_TO_TWEET.sub("", line).rstrip() for line in text.splitlines()]
    lines = [line for line in lines if line.strip()]
    # The tail goes before the inline filter: a "Tags" header must still be there to take its list along.
    kept = _drop_tail(_drop_head(lines, title))
    kept = [line for line in kept if not _is_inline_junk(line)]
    if not kept:
        return text.strip()
    return "\n".join(kept)


def is_heading_repeat(line: str, title: str) -> bool:
    """The line is the headline again (exactly, or nearly, or the title with the site name around it)."""
    a, b = _norm(line), _norm(title)
    if not a or not b:
        return False
    if a == b or (len(a) >= 12 and a in b) or (len(b) >= 12 and b in a and len(a) <= len(b) * 1.6):
        return True
    return SequenceMatcher(None, a, b).ratio() >= 0.85


def is_caption(line: str) -> bool:
    """A short unpunctuated line that credits a picture."""
    words = len(_WORD.findall(line))
    return words <= _SHORT_WORDS and bool(_CAPTION_CREDIT.search(line))


def _drop_head(lines: list[str], title: str | None) -> list[str]:
    start = 0
    for line in lines[:_HEAD_LINES]:
        if not ((title and is_heading_repeat(line, title)) or _is_dateline(line) or _is_byline(line)):
            break  # the frame on top is contiguous: the first line of prose ends it
        start += 1
    return lines[start:]


def _drop_tail(lines: list[str]) -> list[str]:
    end = len(lines)
    pending_words = 0  # words of short unmatched lines below the scan: a section header may take them along
    for index in range(len(lines) - 1, max(0, len(lines) - _TAIL_LINES) - 1, -1):
        line = lines[index]
        if _SECTION_HEADER.match(line) and pending_words <= _TAIL_WORDS:
            end, pending_words = index, 0  # a "Tags" or "Related" header takes its short list with it
        elif _short(line) and (_TRAILER.match(line) or _CONTACT.match(line)) and pending_words == 0:
            end = index
        elif _short(line):
            pending_words += len(_WORD.findall(line))
        else:
            break  # prose, or a trailer line above a line that is no trailer: the article goes on here
    return lines[:end]


def _is_inline_junk(line: str) -> bool:
    if _ADVERT.match(line):
        return True
    if not _short(line):
        return False
    return bool(_TEASER.match(line)) or is_caption(line) or (_short(line, 3) and _TRAILER.match(line) is not None)


def _is_dateline(line: str) -> bool:
    """A short line that is mostly a date or time (a publication line, not a sentence)."""
    words = _WORD.findall(line)
    if not words or len(words) > 12 or not (_DATE.search(line) or _MONTH.search(line)):
        return False
    if _TERMINAL.search(line) and not line.rstrip().endswith(")"):
        return False
    digits = sum(w.isdigit() for w in words)
    return digits >= 2 or (digits >= 1 and _MONTH.search(line) is not None)


def _is_byline(line: str) -> bool:
    words = _WORD.findall(line)
    return 1 < len(words) <= 8 and re.match(r"^\s*(?i:by|von|par|por|di)\s+[A-ZÀ-Þ]", line) is not None


def _short(line: str, limit: int = _SHORT_WORDS) -> bool:
    return len(_WORD.findall(line)) <= limit


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))
