"""The article's authors: the page's JSON-LD byline first, else trafilatura's, cleaned of what is no name.

JSON-LD ``author`` is the publisher's own statement (objects, arrays or strings; workers/pipeline/extract/
jsonld.py). Its people are the byline, with any agency or desk it credits beside them; the publisher's own
name is dropped when a person is credited, and kept only when the page credits nobody else (a desk story:
the page says the publication wrote it). A page whose JSON-LD credits only the publisher, while its visible
byline (trafilatura's reading) names a person, gets the person. When neither names anybody but the
publication, weaker sources are asked in turn: the page's meta author, then a bold line of names on the
first or last line of the body (which then leaves the body). Every name loses a byline prefix in any of
several languages ("By", "Von", "Par", "Por", "Di", "Av", "Door", "Przez", "Автор:", "文/", ...), a byline
word after a column name ("Kolumne Von ..."), a trailing role ("기자", "記者") or initials in parentheses, and
lines that are dates, addresses or links are no names at all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from workers.pipeline.extract.jsonld import Person

__all__ = ["body_byline", "choose_authors", "clean_name", "emphasised_texts", "own_names"]

_PREFIX = re.compile(
    r"^\s*(?:(?:written |reported |text |texto |textes? |testo |tekst |fotos? |photos? )?"
    r"(?:by|par|por|pela|pelo|przez|autor(?:in|a)?|author|auteur|text|texto|tekst|redaktion|yazar|автор|текст|"
    r"作者|文|記者|기자)\b\s*[:/|-]?\s*|[文図写]\s*[/／]\s*|"
    # words that are also name particles (von der Leyen, Di Maio, Da Silva, af Klint) count as a prefix only
    # when a name of at least two words follows, its first capitalised
    r"(?:von|vom|di|da|av|af|door|od)\s*:?\s+(?=(?-i:[A-ZÀ-ÞĀ-ŽА-Я]\S*\s+\S)))",
    re.IGNORECASE,
)
# A byline word after a section or column name ("Capital Von Jemima Kelly"): capitalised, mid-line, before a
# name of at least two words. Lower-case "von" there is a name particle and stays.
_INNER_PREFIX = re.compile(r"^(?:\S+\s+){1,2}(?:Von|By|Par|Por|Door)\s+(?=[A-ZÀ-ÞĀ-ŽА-Я]\S*\s+\S)")
# Korean and Japanese write the reporter's title after the name ("신현주 기자", "山田太郎記者").
_ROLE_SUFFIX = re.compile(r"\s*(?:기자|특파원|선임기자|논설위원|記者|特派員|編集委員)\s*$")
_PARENTHESIS = re.compile(r"\s*\([^()]{1,30}\)\s*$")
_NOT_A_NAME = re.compile(r"\d{1,4}[./:-]\d{1,2}|\b(19|20)\d\d\b|@|https?://|www\.|\.(com|net|org)\b", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_MAX_WORDS = 8
_CAPITALISED = r"[A-ZÀ-ÞĀ-ŽА-ЯΑ-Ω][\w'’.-]*"
_NAME = rf"{_CAPITALISED}(?:\s+(?:{_CAPITALISED}|van|von|de|der|da|di|du|la|le|bin))*"
_NAME_LINE = re.compile(rf"^{_NAME}(?:\s*(?:/|,|&| and | und | et | y | og | e )\s*{_NAME})*$")
"""Capitalised words (a few particles between): one name, or names joined by a slash, comma or "and"."""
_NAME_SPLIT = re.compile(r"\s*(?:/|,|&| and | und | et | y | og | e )\s*")
_MAX_NAME_LINE = 80


def clean_name(value: str) -> str | None:
    """The name without a byline prefix or a trailing parenthesis; None for what is no name."""
    name = " ".join(unicodedata.normalize("NFC", value).split())
    for _ in range(2):  # "Text und Fotos: von ..." needs two passes
        name = _PREFIX.sub("", name, count=1).strip(" ,;:|-–—")
    name = _INNER_PREFIX.sub("", name, count=1)
    name = _ROLE_SUFFIX.sub("", _PARENTHESIS.sub("", name)).strip(" ,;:|-–—")
    words = _WORD.findall(name)
    if not words or len(words) > _MAX_WORDS or _NOT_A_NAME.search(name) or not any(c.isalpha() for c in name):
        return None
    return name


def choose_authors(declared: list[Person], found: list[str], own_names: list[str],
                   fallbacks: Iterable[list[str]] = ()) -> list[str]:
    """The byline (see the module docstring). ``found`` is trafilatura's author list; ``own_names`` the
    publication's names (site name, JSON-LD publisher, host name); ``fallbacks`` weaker sources in order
    (meta author, a name line on the body's edge), asked only when the stronger ones name no person."""
    own = {_key(name) for name in own_names if _key(name)}
    people = [n for n in _unique(clean_name(p.name) for p in declared if not p.organization) if not _is_own(n, own)]
    if people:
        credited = _unique(clean_name(p.name) for p in declared if p.organization)
        return _unique([*people, *(name for name in credited if not _is_own(name, own))])
    visible = [name for name in _unique(clean_name(n) for n in found) if not _is_own(name, own)]
    if visible:
        return visible
    for names in fallbacks:
        weaker = [name for name in _unique(clean_name(n) for n in names) if not _is_own(name, own)]
        if weaker:
            return weaker
    return _unique(clean_name(p.name) for p in declared)


def body_byline(body: str, emphasised: set[str]) -> tuple[list[str], str]:
    """A byline printed as the body's first or last line: a bold line (``emphasised`` holds the page's
    bold texts, folded) shaped like a name or a few names. The names, and the body without that line."""
    lines = body.splitlines()
    if len(lines) < 3:
        return [], body
    for index in (0, len(lines) - 1):
        line = lines[index].strip()
        if _key(line) in emphasised and _NAME_LINE.match(line):
            names = [n for n in (clean_name(part) for part in _NAME_SPLIT.split(line)) if n]
            if names and all(len(_WORD.findall(name)) >= 2 for name in names):  # one word: a place, a kicker
                return names, "\n".join(lines[:index] + lines[index + 1:])
    return [], body


def emphasised_texts(tree: HtmlElement) -> set[str]:
    """The folded text of every short bold element of the page."""
    found = set()
    for element in tree.iter("strong", "b"):
        text = element.text_content()
        if len(text) <= _MAX_NAME_LINE:
            found.add(_key(text))
    return found


def own_names(site_name: str | None, publishers: list[str], *urls: str | None) -> list[str]:
    """The names a publication goes by: its site name, its JSON-LD publisher, its host name."""
    names = [n for n in [site_name, *publishers] if n]
    for url in urls:
        host = (urlsplit(url or "").hostname or "").removeprefix("www.")
        if host:
            names += [host, host.split(".")[0]]
    return names


def _unique(names: object) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:  # type: ignore[attr-defined]
        if name and _key(name) not in seen:
            seen[_key(name)] = name
    return list(seen.values())


def _is_own(name: str, own: set[str]) -> bool:
    key = _key(name)
    return key in own or any(min(len(o), len(key)) >= 4 and (o in key or key in o) for o in own)


def _key(text: str) -> str:
    return "".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold())).replace("_", "")
