"""Tests for the backend-neutral search query syntax."""

from __future__ import annotations

import random

import pytest

from workers.core.errors import QuerySyntaxError
from workers.search.query_syntax import (
    DEFAULT_FIELDS,
    MAX_DEPTH,
    MAX_QUERY_LENGTH,
    And,
    MatchAll,
    Node,
    Not,
    Or,
    Phrase,
    Term,
    parse_query,
    query_notes,
    to_text,
)

T = Term
P = Phrase
ALL = MatchAll()


def everything_except(*nots: Node) -> And:
    return And((ALL, *(Not(n) for n in nots)))


GOOD: list[tuple[str, Node]] = [
    # Empty queries match everything.
    ("", ALL),
    ("   \t\n ", ALL),
    # Words and implicit AND.
    ("rocket", T("rocket")),
    ("rocket attack", And((T("rocket"), T("attack")))),
    ("  rocket   attack  ", And((T("rocket"), T("attack")))),
    ("rocket AND attack", And((T("rocket"), T("attack")))),
    ("+rocket +attack", And((T("rocket"), T("attack")))),
    ("a b c", And((T("a"), T("b"), T("c")))),
    # OR and precedence NOT > AND > OR.
    ("rocket OR missile", Or((T("rocket"), T("missile")))),
    ("a b OR c", Or((And((T("a"), T("b"))), T("c")))),
    ("a OR b c", Or((T("a"), And((T("b"), T("c")))))),
    ("a AND b OR c AND d", Or((And((T("a"), T("b"))), And((T("c"), T("d")))))),
    ("a OR b OR c", Or((T("a"), T("b"), T("c")))),
    ("a NOT b", And((T("a"), Not(T("b"))))),
    ("a AND NOT b", And((T("a"), Not(T("b"))))),
    ("NOT a b", And((Not(T("a")), T("b")))),
    ("a -b", And((T("a"), Not(T("b"))))),
    ("a -b OR c", Or((And((T("a"), Not(T("b")))), T("c")))),
    # Lowercase operators are plain words.
    ("war and peace", And((T("war"), T("and"), T("peace")))),
    ("to be or not", And((T("to"), T("be"), T("or"), T("not")))),
    # Groups and simplification.
    ("(rocket OR missile) gaza", And((Or((T("rocket"), T("missile"))), T("gaza")))),
    ("(a)", T("a")),
    ("((a))", T("a")),
    ("a (b c)", And((T("a"), T("b"), T("c")))),
    ("(a OR b) OR c", Or((T("a"), T("b"), T("c")))),
    ("a OR (b OR (c OR d))", Or((T("a"), T("b"), T("c"), T("d")))),
    ("NOT NOT a", T("a")),
    ("--a", T("a")),
    ("-(-a)", T("a")),
    ("-(a OR b)", everything_except(Or((T("a"), T("b"))))),
    # Purely negative queries mean "everything except".
    ("-sports", everything_except(T("sports"))),
    ("NOT sports", everything_except(T("sports"))),
    ("-sports -weather", everything_except(T("sports"), T("weather"))),
    ('-"climate change"', everything_except(P("climate change"))),
    ("a OR -b", Or((T("a"), everything_except(T("b"))))),
    ("a (-b)", And((T("a"), Not(T("b"))))),
    # Phrases.
    ('"rocket attack"', P("rocket attack")),
    ('"  rocket \t attack "', P("rocket attack")),
    ("“rocket attack”", P("rocket attack")),
    ('"rocket attack" gaza', And((P("rocket attack"), T("gaza")))),
    ('"see https://example.com/a:b"', P("see https://example.com/a:b")),
    ('"AND OR NOT (x)"', P("AND OR NOT (x)")),
    # Words keep case and inner punctuation.
    ("U.S. COVID-19 al-Sadr e-mail", And((T("U.S."), T("COVID-19"), T("al-Sadr"), T("e-mail")))),
    ("C++ O'Brien", And((T("C++"), T("O'Brien")))),
    ("-COVID-19", everything_except(T("COVID-19"))),
    # Unicode words.
    ("غزة Москва café 北京", And((T("غزة"), T("Москва"), T("café"), T("北京")))),
    ("Zürich OR Genève", Or((T("Zürich"), T("Genève")))),
    # Colons that are not fields.
    ("10:30", T("10:30")),
    ("https://example.com/news", T("https://example.com/news")),
    ("COVID-19:", T("COVID-19:")),
    # Fields.
    ("title:gaza", T("gaza", "title")),
    ('persons:"Qassem Soleimani"', P("Qassem Soleimani", "persons")),
    ("title:(gaza OR rafah)", Or((T("gaza", "title"), T("rafah", "title")))),
    ('title:(gaza "aid convoy")', And((T("gaza", "title"), P("aid convoy", "title")))),
    ("title:(a body:b)", And((T("a", "title"), T("b", "body")))),
    ("-title:gaza", everything_except(T("gaza", "title"))),
    ("Title:gaza", T("gaza", "title")),
    ("url:https://example.com/a", T("https://example.com/a", "url")),
    ("tags:AND", T("AND", "tags")),
    ("title:10:30", T("10:30", "title")),
    ("language:en body:rocket", And((T("en", "language"), T("rocket", "body")))),
    ("title:(a (b OR c))", And((T("a", "title"), Or((T("b", "title"), T("c", "title")))))),
]

BAD: list[tuple[str, str, int]] = [
    ('"rocket attack', "unclosed quote", 0),
    ('rocket "attack', "unclosed quote", 7),
    ("“rocket attack", "unclosed quote", 0),
    ('""', "empty phrase", 0),
    ('a "  "', "empty phrase", 2),
    ("(rocket attack", r"unclosed '\('", 0),
    ("a (b (c)", r"unclosed '\('", 2),
    ("(", r"unclosed '\('", 0),
    ("rocket attack)", r"unmatched '\)'", 13),
    ("(a))", r"unmatched '\)'", 3),
    (")", r"unmatched '\)'", 0),
    ("rocket AND", "'AND' needs a term after it", 7),
    ("rocket OR", "'OR' needs a term after it", 7),
    ("OR rocket", "'OR' needs a term before it", 0),
    ("AND rocket", "'AND' needs a term before it", 0),
    ("NOT", "'NOT' needs a term after it", 0),
    ("a AND OR b", "'AND' needs a term after it", 2),
    ("(a OR)", "'OR' needs a term after it", 3),
    ("(AND a)", "'AND' needs a term before it", 1),
    ("a NOT", "'NOT' needs a term after it", 2),
    ("()", r"empty group '\(\)'", 0),
    ("a ( )", r"empty group '\(\)'", 2),
    ("-", "'-' must be followed directly by a term", 0),
    ("a - b", "'-' must be followed directly by a term", 2),
    ("a +", "'\\+' must be followed directly by a term", 2),
    ("(-)", "'-' must be followed directly by a term", 1),
    ("-AND", "'-' needs a term after it", 0),
    ("persons:", "field 'persons' has no value", 7),
    ("persons: Soleimani", "field 'persons' has no value", 7),
    ("title:)", "field 'title' has no value", 5),
    ("title:()", r"empty group '\(\)'", 6),
    ("title:-gaza", "'-' belongs before the field", 6),
    ("foo:bar", "unknown field 'foo'; known fields: authors, body, ", 0),
    ("gaza Breaking:news", "unknown field 'Breaking'", 5),
    ("-foo:bar", "unknown field 'foo'", 1),
]


@pytest.mark.parametrize(("query", "expected"), GOOD)
def test_parse(query: str, expected: Node) -> None:
    assert parse_query(query) == expected


@pytest.mark.parametrize(("query", "expected"), GOOD)
def test_round_trip(query: str, expected: Node) -> None:
    assert parse_query(to_text(expected)) == expected


@pytest.mark.parametrize(("query", "message", "position"), BAD)
def test_errors(query: str, message: str, position: int) -> None:
    with pytest.raises(QuerySyntaxError, match=message) as caught:
        parse_query(query)
    assert caught.value.position == position
    assert f"position {position}" in str(caught.value)
    assert caught.value.reason == "query.syntax"


def test_unknown_field_lists_known_fields() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query("foo:bar")
    for field in DEFAULT_FIELDS:
        assert field in str(caught.value)


def test_custom_fields() -> None:
    assert parse_query("site:bbc", fields={"site"}) == T("bbc", "site")
    with pytest.raises(QuerySyntaxError, match="unknown field 'title'; known fields: site"):
        parse_query("title:x", fields={"site"})


def test_length_limit() -> None:
    assert parse_query("a" * MAX_QUERY_LENGTH) == T("a" * MAX_QUERY_LENGTH)
    with pytest.raises(QuerySyntaxError, match="over the limit") as caught:
        parse_query("a" * (MAX_QUERY_LENGTH + 1))
    assert caught.value.position == MAX_QUERY_LENGTH


def test_depth_limit() -> None:
    assert parse_query("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH) == T("a")
    deep = "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(QuerySyntaxError, match="nest deeper than") as caught:
        parse_query(deep)
    assert caught.value.position == MAX_DEPTH


def test_long_prefix_chains_do_not_recurse() -> None:
    assert parse_query("-" * 2000 + "a") == T("a")
    assert parse_query("NOT " * 999 + "a") == everything_except(T("a"))


@pytest.mark.parametrize(
    ("node", "text"),
    [
        (ALL, ""),
        (Or((And((T("a"), T("b"))), T("c"))), "(a b) OR c"),
        (And((Or((T("a"), T("b"))), T("c"))), "(a OR b) c"),
        (everything_except(T("a"), P("b c")), '-a -"b c"'),
        (Or((T("a"), everything_except(T("b")))), "a OR (-b)"),
        (T("New York"), '"New York"'),
        (T("AND"), '"AND"'),
        (T("-x"), '"-x"'),
        (T("foo:bar"), '"foo:bar"'),
        (T("AND", "tags"), "tags:AND"),
    ],
)
def test_to_text(node: Node, text: str) -> None:
    assert to_text(node) == text


@pytest.mark.parametrize("node", [Or((T("a"), ALL)), Not(ALL), P('say "hi"'), T(""), P("  "), And((ALL,))])
def test_to_text_rejects_unwritable_nodes(node: Node) -> None:
    with pytest.raises(ValueError, match=r"cannot be written|only be written"):
        to_text(node)


def test_nodes_are_immutable() -> None:
    with pytest.raises(AttributeError):
        T("a").text = "b"  # type: ignore[misc]


# Characters chosen to hit every branch of the tokenizer, not uniform noise.
_ALPHABET = [*'ab "“”()-+:', " ", " ", " OR ", " AND ", "NOT ", "title:", "foo:", "é", "10", "//", "ab", "x"]


def _check_total(query: str) -> None:
    """Malformed input raises QuerySyntaxError only; anything parsed round-trips."""
    try:
        node = parse_query(query)
    except QuerySyntaxError:
        return
    assert parse_query(to_text(node)) == node


def test_random_queries_parse_or_raise_query_syntax_error() -> None:
    rng = random.Random(20240601)
    for _ in range(3000):
        _check_total("".join(rng.choices(_ALPHABET, k=rng.randint(0, 24))))


def test_hypothesis_printable_text_parses_or_raises() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    strategies = hypothesis.strategies

    @hypothesis.settings(max_examples=500, deadline=None, database=None)
    @hypothesis.given(
        strategies.one_of(
            strategies.text(alphabet=strategies.characters(blacklist_categories=("Cs",)), max_size=80),
            strategies.lists(strategies.sampled_from(_ALPHABET), max_size=30).map("".join),
        )
    )
    def check(query: str) -> None:
        _check_total(query)

    check()


def test_dates_without_a_zone_are_utc_and_mix_with_aware_ones() -> None:
    from datetime import UTC, datetime

    from workers.search.model import SearchQuery

    query = SearchQuery(since=datetime(2020, 1, 1), until=datetime(2020, 2, 1, tzinfo=UTC))
    assert query.since == datetime(2020, 1, 1, tzinfo=UTC)
    with pytest.raises(QuerySyntaxError):
        SearchQuery(since=datetime(2020, 3, 1), until=datetime(2020, 2, 1, tzinfo=UTC))


def test_collections_is_a_query_field() -> None:
    assert parse_query("collections:nigeria") == Term("nigeria", field="collections")


@pytest.mark.parametrize(("query", "expected", "words"), [
    ("Brexit: transition", And((T("Brexit"), T("transition"))), ["Brexit"]),
    ("Update:", T("Update"), ["Update"]),
    ("(gaza OR Live:) rafah", And((Or((T("gaza"), T("Live"))), T("rafah"))), ["Live"]),
    ("title:gaza Breaking: news", And((T("gaza", "title"), T("Breaking"), T("news"))), ["Breaking"]),
])
def test_a_headline_colon_is_searched_as_the_word_with_a_note(query: str, expected: Node, words: list[str]) -> None:
    notes: list[str] = []
    assert parse_query(query, notes=notes) == expected
    assert len(notes) == len(words)
    for note, word in zip(notes, words, strict=True):
        assert f"{word!r} is not a field" in note and "title" in note
    assert query_notes(query) == notes
    assert query_notes("title:gaza") == []
