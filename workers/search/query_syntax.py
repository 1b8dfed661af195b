"""The search query syntax every search surface shares, parsed to a small AST.

The CLI and the HTTP API both call :func:`parse_query`; the Tantivy and
Elasticsearch backends each compile the resulting AST. Keeping backend queries
out of this module is what makes the two surfaces accept exactly the same text.

Syntax::

    rocket attack             both words (implicit AND); ``+attack`` also means required
    rocket AND attack         the same, spelled out
    rocket OR missile         either word
    NOT sports   -sports      exclude; ``-"a phrase"`` and ``-(a OR b)`` work too
    "rocket attack"           a phrase, words in order; curly quotes “…” work too
    (rocket OR missile) gaza  parentheses group
    title:gaza                a word in one field; ``persons:"Qassem Soleimani"``
    title:(gaza OR rafah)     the field applies to every word inside the group
    countries:IQ              a country by its ISO code or English name (countries:Iraq), any case

Precedence is NOT > AND > OR, so ``a b OR c`` means ``(a b) OR c``. Operators
are uppercase only: ``and``, ``or`` and ``not`` are ordinary words. Words keep
their case and inner punctuation (``U.S.``, ``COVID-19``, ``al-Sadr``) because
the backend analyses them; ``-`` and ``+`` are operators only at the start of a
word and must touch what they apply to. A colon makes a field only directly
after an identifier (``10:30`` and ``https://…`` are words); the field must be
one of ``fields`` (matched case-insensitively) and its value must follow the
colon without a space. There are no escapes: quote a word that reads as syntax.

A pasted headline is not a field query: an unknown name with nothing attached after its colon
(``Brexit: transition``) is the word itself, and a note saying so is added to ``notes``. An unknown name
with a value attached (``titel:gaza``) is still an error naming the known fields, since it can only be a
field meant.

An empty query matches everything (:class:`MatchAll`). A query of only
exclusions means "everything except": ``-sports`` is
``And((MatchAll(), Not(Term('sports'))))``; a purely negative group under OR or
NOT is anchored the same way, so no backend ever sees a bare negation. The AST
is simplified: nested And/Or of one kind are flattened, a one-child group is
that child, and a double negation cancels.

Malformed input raises :class:`~workers.core.errors.QuerySyntaxError` whose
``position`` is the 0-based offset of the culprit: an unbalanced quote or
parenthesis, an operator missing a term, an empty group or phrase, a field
without a value, an unknown field, a query longer than ``MAX_QUERY_LENGTH``
characters or nested deeper than ``MAX_DEPTH`` parentheses.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import NoReturn, TypeAlias

from workers.core.errors import QuerySyntaxError

__all__ = [
    "DEFAULT_FIELDS", "MAX_DEPTH", "MAX_QUERY_LENGTH", "And", "MatchAll", "Node", "Not", "Or", "Phrase",
    "Term", "parse_query", "query_notes", "to_text",
]  # fmt: skip

DEFAULT_FIELDS: tuple[str, ...] = (
    "title", "body", "summary", "url", "persons", "organizations", "locations",
    "groups", "events", "source_name", "domain", "language", "authors", "tags", "collections", "countries",
)  # fmt: skip
MAX_QUERY_LENGTH = 4096
MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class Term:
    """One word, analysed (stemmed, lowercased...) by the backend."""

    text: str
    field: str | None = None  # None means the backend's default text fields


@dataclass(frozen=True, slots=True)
class Phrase:
    """Quoted words matched in order."""

    text: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class MatchAll:
    """Every document: the empty query, and the anchor of a purely negative one."""


Node: TypeAlias = Term | Phrase | And | Or | Not | MatchAll

_QUOTES = '"“”'
# Straight and curly quotes close each other because phones and word
# processors mix them; the cost is that a phrase cannot contain any of them.
_QUOTE = re.compile(f"[{_QUOTES}]")
_OPERATORS = frozenset({"AND", "OR", "NOT"})
# A pasted URL such as https://example.com must not read as field "https".
_FIELD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*):(?!//)")
_STOP = "()" + _QUOTES
_PREFIXES = "+-"
_STARTS = frozenset({"word", "phrase", "field", "(", "NOT", "-", "+"})


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "word", "phrase", "field", "(", ")", "AND", "OR", "NOT", "-", "+", "end"
    text: str
    pos: int


def parse_query(text: str, *, fields: Collection[str] = DEFAULT_FIELDS, notes: list[str] | None = None) -> Node:
    """Parse ``text`` into an AST; raise QuerySyntaxError if it is malformed. ``notes`` receives what was read
    otherwise than it looks (a ``word:`` searched as a word)."""
    if len(text) > MAX_QUERY_LENGTH:
        _fail(f"query is {len(text)} characters long, over the limit of {MAX_QUERY_LENGTH}", MAX_QUERY_LENGTH)
    if not text.strip():
        return MatchAll()
    return _Parser(_tokenize(text, fields, notes if notes is not None else [])).parse()


def query_notes(text: str, *, fields: Collection[str] = DEFAULT_FIELDS) -> list[str]:
    """What parsing ``text`` notes (see :func:`parse_query`); raises as it does on a malformed query."""
    notes: list[str] = []
    parse_query(text, fields=fields, notes=notes)
    return notes


def _fail(message: str, position: int) -> NoReturn:
    raise QuerySyntaxError(f"{message} (at position {position})", position=position)


def _tokenize(text: str, fields: Collection[str], notes: list[str]) -> list[_Token]:
    canonical = {name.lower(): name for name in fields}
    tokens: list[_Token] = []
    i, n = 0, len(text)
    after_field = False  # a field's value is always a value, never syntax
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char in "()":
            tokens.append(_Token(char, char, i))
            i += 1
        elif char in _QUOTES:
            end = _QUOTE.search(text, i + 1)
            if end is None:
                _fail("unclosed quote", i)
            phrase = " ".join(text[i + 1 : end.start()].split())
            if not phrase:
                _fail("empty phrase", i)
            tokens.append(_Token("phrase", phrase, i))
            i = end.end()
        elif char in _PREFIXES:
            if i + 1 == n or text[i + 1].isspace() or text[i + 1] == ")":
                _fail(f"'{char}' must be followed directly by a term", i)
            tokens.append(_Token(char, char, i))
            i += 1
        else:
            end = i
            while end < n and not text[end].isspace() and text[end] not in _STOP:
                end += 1
            word = text[i:end]
            match = None if after_field else _FIELD.match(word)
            if match is not None and match.group(1).lower() not in canonical and (
                    i + match.end() == n or text[i + match.end()].isspace() or text[i + match.end()] == ")"):
                # "Brexit: transition": a headline's colon, not a field; the colon itself is no word.
                notes.append(f"{match.group(1)!r} is not a field, so '{match.group(0)}' was searched as the word "
                             f"{match.group(1)!r} (fields: {', '.join(sorted(canonical.values()))})")
                tokens.append(_Token("word", match.group(1), i))
                i += match.end()
                after_field = False
                continue
            if match is None:
                kind = word if word in _OPERATORS and not after_field else "word"
                tokens.append(_Token(kind, word, i))
                i = end
            else:
                tokens.append(_field_token(match.group(1), canonical, i))
                i += match.end()
                if i == n or text[i].isspace() or text[i] == ")":
                    _fail(f"field {match.group(1)!r} has no value (write it right after the colon)", i - 1)
                if text[i] in _PREFIXES:
                    _fail(f"'{text[i]}' belongs before the field, as in {text[i]}{match.group(1)}:...", i)
                after_field = True
                continue
        after_field = False
    tokens.append(_Token("end", "", n))
    return tokens


def _field_token(name: str, canonical: dict[str, str], pos: int) -> _Token:
    # Case-insensitive because "Title:gaza" is an obvious intent, not an error.
    field = canonical.get(name.lower())
    if field is None:
        _fail(f"unknown field {name!r}; known fields: {', '.join(sorted(canonical.values()))}", pos)
    return _Token("field", field, pos)


class _Parser:
    """Recursive descent over the tokens; it recurses only per parenthesis."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._index = 0
        self._depth = 0
        self._field: str | None = None

    def parse(self) -> Node:
        node = self._or()
        if self._peek().kind == ")":
            _fail("unmatched ')'", self._peek().pos)
        return _anchor(node)

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _take(self) -> _Token:
        token = self._tokens[self._index]
        # The "end" token is sticky so no path can index past the list.
        self._index = min(self._index + 1, len(self._tokens) - 1)
        return token

    def _expect_term_after(self, operator: _Token) -> None:
        if self._peek().kind not in _STARTS:
            _fail(f"'{operator.text}' needs a term after it", operator.pos)

    def _or(self) -> Node:
        children = [self._and()]
        while self._peek().kind == "OR":
            self._expect_term_after(self._take())
            children.append(self._and())
        return _or(children)

    def _and(self) -> Node:
        children = [self._unary()]
        while True:
            token = self._peek()
            if token.kind == "AND":
                self._expect_term_after(self._take())
            elif token.kind not in _STARTS:
                return _and(children)
            children.append(self._unary())

    def _unary(self) -> Node:
        # Prefixes are counted in a loop, not by recursion, so "------x" cannot
        # exhaust the stack; only the parity of the negations matters.
        negate = False
        while self._peek().kind in ("NOT", "-", "+"):
            operator = self._take()
            self._expect_term_after(operator)
            negate ^= operator.kind != "+"
        node = self._primary()
        return _not(node) if negate else node

    def _primary(self) -> Node:
        token = self._take()
        if token.kind == "word":
            return Term(token.text, self._field)
        if token.kind == "phrase":
            return Phrase(token.text, self._field)
        if token.kind == "field":
            outer, self._field = self._field, token.text
            try:
                return self._primary()
            finally:
                self._field = outer
        if token.kind == "(":
            return self._group(token.pos)
        if token.kind in ("AND", "OR"):
            _fail(f"'{token.text}' needs a term before it", token.pos)
        _fail("unmatched ')'" if token.kind == ")" else "unexpected end of query", token.pos)

    def _group(self, pos: int) -> Node:
        if self._depth >= MAX_DEPTH:
            _fail(f"parentheses nest deeper than {MAX_DEPTH} levels", pos)
        if self._peek().kind == ")":
            _fail("empty group '()'", pos)
        self._depth += 1
        node = self._or() if self._peek().kind != "end" else None
        self._depth -= 1
        if node is None or self._peek().kind != ")":
            _fail("unclosed '('", pos)
        self._take()
        return node


def _anchor(node: Node) -> Node:
    """Give a purely negative node a MatchAll to subtract from."""
    if isinstance(node, Not):
        return And((MatchAll(), node))
    if isinstance(node, And) and all(isinstance(child, Not) for child in node.children):
        return And((MatchAll(), *node.children))
    return node


def _and(children: Iterable[Node]) -> Node:
    flat: list[Node] = []
    for child in children:
        parts = child.children if isinstance(child, And) else (child,)
        # Beside other terms a MatchAll anchor is redundant; _anchor restores it where needed.
        flat.extend(part for part in parts if not isinstance(part, MatchAll))
    if not flat:
        return MatchAll()
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def _or(children: list[Node]) -> Node:
    if len(children) == 1:
        return children[0]
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, Or) else (_anchor(child),))
    if any(isinstance(child, MatchAll) for child in flat):
        return MatchAll()
    return Or(tuple(flat))


def _not(node: Node) -> Node:
    return node.child if isinstance(node, Not) else Not(_anchor(node))


def to_text(node: Node) -> str:
    """Render ``node`` as query text that :func:`parse_query` reads back to the same AST.

    Every AST parse_query returns round-trips exactly. A hand-built Term that is
    not one bare word renders quoted (so it reads back as a Phrase); a MatchAll
    anywhere but the top or beside negations, or a Phrase with quote characters,
    has no syntax and raises ValueError.
    """
    return "" if isinstance(node, MatchAll) else _render(node)


def _render(node: Node) -> str:
    if isinstance(node, Term | Phrase):
        prefix = f"{node.field}:" if node.field else ""
        if isinstance(node, Term) and _is_bare(node.text, fielded=bool(node.field)):
            return prefix + node.text
        if not node.text.split() or _QUOTE.search(node.text):
            raise ValueError(f"{node!r} cannot be written in the query syntax")
        return f'{prefix}"{node.text}"'
    if isinstance(node, Not):
        inner = _render(node.child)
        return f"-{inner}" if isinstance(node.child, Term | Phrase) else f"-({inner})"
    if isinstance(node, And):
        parts = [child for child in node.children if not isinstance(child, MatchAll)]
        if not parts:
            raise ValueError(f"{node!r} cannot be written in the query syntax")
        return " ".join(f"({_render(c)})" if isinstance(c, Or) else _render(c) for c in parts)
    if isinstance(node, Or):
        # And needs no parentheses under OR, but people misread "a b OR c".
        return " OR ".join(f"({_render(c)})" if isinstance(c, And) else _render(c) for c in node.children)
    raise ValueError("MatchAll can only be written as the whole (empty) query")


def _is_bare(text: str, *, fielded: bool) -> bool:
    """Whether the tokenizer would read ``text`` back as exactly one word."""
    if not text or text[0] in _PREFIXES or any(c.isspace() or c in _STOP for c in text):
        return False
    return fielded or (text not in _OPERATORS and _FIELD.match(text) is None)
