"""A page's bytes as text: the charset from the header, the page's own meta tag, or a guess.

Shared by the fetch stage and the archive reader, so a page read back decodes as it did when fetched.
"""

from __future__ import annotations

import re

from charset_normalizer import from_bytes

__all__ = ["decode_html", "header_charset"]

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def header_charset(content_type: str) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else None


def decode_html(content: bytes, declared: str | None) -> str:
    """Bytes to text: the header's charset, else the page's <meta>, else UTF-8, else a detector's guess.

    Non-ASCII bytes that are valid UTF-8 are UTF-8 whatever the page claims: the usual wrong label is
    ISO-8859-1 or windows-1252 on a UTF-8 page, and those decode anything, into mojibake.
    """
    if not content.isascii():
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError:
            pass
    candidates = [declared]
    meta = _META_CHARSET.search(content[:4096])
    if meta:
        candidates.append(meta.group(1).decode("ascii", "ignore"))
    candidates.append("utf-8")
    for charset in candidates:
        if not charset:
            continue
        try:
            return content.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    guess = _guess_charset(content[:200_000])
    if guess:
        return content.decode(guess, errors="replace")
    return content.decode("utf-8", errors="replace")


def _guess_charset(content: bytes) -> str | None:
    """The detector's best guess; windows-1252 when it ties, as it often does on short Western pages
    (cp1250 and cp1252 both read "Café"), since the web's unlabelled legacy pages are mostly windows-1252."""
    matches = from_bytes(content)
    best = matches.best()
    if best is None:
        return None
    for match in matches:
        if match.encoding == "cp1252" and match.chaos <= best.chaos and match.coherence >= best.coherence:
            return "cp1252"
    return best.encoding
