"""Snippets that read as excerpts: cut between words, with an ellipsis wherever the body goes on.

A highlighter picks a window of characters around the matched words, so its fragment can start or end in
the middle of a word ("…ttack caused heavy dam"). :func:`excerpt` trims such a fragment back to whole words
and marks each side where the body continues with "…"; the marks of the matched words stay ``<b>`` around
escaped text, the one HTML the search page takes from a snippet.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

__all__ = ["ELLIPSIS", "char_offset", "excerpt", "excerpt_html", "lead"]

ELLIPSIS = "\u2026"
_SPACE = re.compile(r"\s")
_MARK = re.compile(r"<b>(.*?)</b>", re.DOTALL)


def excerpt(body: str, fragment: str, marks: Sequence[tuple[int, int]] = (), *, at: int | None = None) -> str:
    """``fragment`` (the piece of ``body`` from character ``at``; found in it when not given) as HTML, with
    ``marks`` (character ranges within the fragment) in ``<b>``, trimmed to whole words and with an ellipsis on
    each side where ``body`` goes on."""
    if at is None or body[at : at + len(fragment)] != fragment:
        at = body.find(fragment) if fragment else -1
    if at < 0:
        # Not a verbatim piece of the body (it should be): show it as it came, only escaped and marked.
        return _marked(fragment, marks, 0, len(fragment), False, False)
    start, end = 0, len(fragment)
    before = at > 0 and not _SPACE.match(body[at - 1])
    after = at + end < len(body) and not _SPACE.match(body[at + end])
    # A fragment that starts or ends inside a word loses that piece, unless a matched word is in it.
    if before:
        cut = _first_space(fragment)
        start = cut if cut is not None and not any(a < cut for a, _ in marks) else 0
    if after:
        cut = _last_space(fragment)
        end = cut if cut is not None and cut > start and not any(b > cut for _, b in marks) else end
    while start < end and fragment[start].isspace():
        start += 1
    while end > start and fragment[end - 1].isspace():
        end -= 1
    return _marked(fragment, marks, start, end, at + start > 0, at + end < len(body.rstrip()))


def excerpt_html(body: str, fragment_html: str) -> str:
    """:func:`excerpt` of a highlighter's HTML fragment (escaped text, matched words in ``<b>``), such as
    Elasticsearch returns."""
    text: list[str] = []
    marks: list[tuple[int, int]] = []
    pos = 0
    length = 0
    for found in _MARK.finditer(fragment_html):
        text.append(html.unescape(fragment_html[pos : found.start()]))
        length += len(text[-1])
        word = html.unescape(found.group(1))
        marks.append((length, length + len(word)))
        text.append(word)
        length += len(word)
        pos = found.end()
    text.append(html.unescape(fragment_html[pos:]))
    return excerpt(body, "".join(text), marks)


def lead(body: str, max_chars: int) -> str:
    """The start of ``body`` as a snippet when no word matched: at most ``max_chars``, cut between words."""
    text = body.strip()
    if len(text) <= max_chars:
        return html.escape(text)
    piece = text[: max_chars + 1]
    cut = _last_space(piece)
    piece = (piece[:cut] if cut else piece[:max_chars]).rstrip()
    return html.escape(piece) + ELLIPSIS


def char_offset(text: str, byte_offset: int) -> int:
    """The character offset of ``byte_offset`` in ``text``'s UTF-8 (highlighters written in Rust count bytes)."""
    return len(text.encode()[:byte_offset].decode(errors="ignore"))


def _first_space(text: str) -> int | None:
    found = _SPACE.search(text)
    return found.start() if found else None


def _last_space(text: str) -> int | None:
    for i in range(len(text) - 1, -1, -1):
        if text[i].isspace():
            return i
    return None


def _marked(fragment: str, marks: Sequence[tuple[int, int]], start: int, end: int, dots_before: bool,
            dots_after: bool) -> str:
    out = [ELLIPSIS] if dots_before else []
    pos = start
    for a, b in sorted(marks):
        a, b = max(a, start), min(b, end)
        if a >= b or a < pos:
            continue
        out.append(html.escape(fragment[pos:a]))
        out.append(f"<b>{html.escape(fragment[a:b])}</b>")
        pos = b
    out.append(html.escape(fragment[pos:end]))
    if dots_after:
        out.append(ELLIPSIS)
    return "".join(out)
