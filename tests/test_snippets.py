"""Snippets end between words, with an ellipsis where the body goes on: the excerpt helper, and the Tantivy
backend's snippets over a real index on disk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.conformance.corpus import article
from workers.search.model import SearchQuery
from workers.search.snippets import ELLIPSIS, char_offset, excerpt, excerpt_html, lead
from workers.search.tantivy.backend import TantivyBackend

BODY = "Militants fired rockets at the base near Baghdad. The attack caused heavy damage."


def test_a_fragment_cut_inside_words_is_trimmed_to_whole_words_with_ellipses() -> None:
    fragment = BODY[5:60]  # "ants fired … The attack"
    at = fragment.index("Baghdad")
    out = excerpt(BODY, fragment, [(at, at + 7)], at=5)
    assert out == f"{ELLIPSIS}fired rockets at the base near <b>Baghdad</b>. The attack{ELLIPSIS}"


def test_a_fragment_cut_mid_word_at_the_end_loses_the_piece() -> None:
    fragment = BODY[:45]  # ends inside "Baghdad"
    out = excerpt(BODY, fragment, [(0, 9)], at=0)
    assert out == f"<b>Militants</b> fired rockets at the base near{ELLIPSIS}"


def test_the_whole_body_has_no_ellipsis_and_text_is_escaped() -> None:
    body = "Tom & Jerry <script> fight again."
    assert excerpt(body, body, [(0, 3)], at=0) == "<b>Tom</b> &amp; Jerry &lt;script&gt; fight again."


def test_a_mark_is_never_cut() -> None:
    body = "Rocketattacks everywhere today"
    assert excerpt(body, body[3:], [(0, 10)], at=3) == f"{ELLIPSIS}<b>ketattacks</b> everywhere today"


def test_lead_cuts_between_words() -> None:
    assert lead(BODY, 40) == f"Militants fired rockets at the base near{ELLIPSIS}"
    assert lead("short", 40) == "short"
    assert char_offset("Zürich x", 3) == 2


def test_tantivy_snippets_end_on_words_with_ellipses(tmp_path: Path) -> None:
    long_body = " ".join(["Négociations à Zürich sur le cessez-le-feu, près du lac."] * 12
                         + ["The drone struck the depot at dawn."] + ["Les pourparlers ont repris lundi soir."] * 12)
    writer = TantivyBackend(tmp_path / "index", writer=True)
    try:
        writer.upsert([article("long", title="Long", body=long_body, domain="example.com",
                               published_at=datetime(2020, 1, 2, tzinfo=UTC))])
        hit = writer.search(SearchQuery(text="drone")).hits[0]
        lone = writer.search(SearchQuery(text="title:Long")).hits[0]
    finally:
        writer.close()
    for snippet in (hit.snippet, lone.snippet):
        text = snippet.replace("<b>", "").replace("</b>", "")
        assert text.endswith(ELLIPSIS), snippet
        assert long_body.startswith(text[:-1]) or text.startswith(ELLIPSIS), snippet
        # Every word shown is a whole word of the body.
        words = set(long_body.split())
        assert all(w in words for w in text.strip(ELLIPSIS).split()), snippet
    assert "<b>drone</b>" in hit.snippet and hit.snippet.startswith(ELLIPSIS)


def test_an_elasticsearch_fragment_gets_the_same_treatment() -> None:
    body = "Tom & Jerry fight again. The <b>cat</b> chases the mouse around the kitchen table."
    # Elasticsearch's HTML encoder escapes the text and wraps matches in <b>; its fragment starts mid-word here.
    fragment = "ry fight again. The &lt;b&gt;<b>cat</b>&lt;/b&gt; chases the mouse around the kitc"
    assert excerpt_html(body, fragment) == (
        f"{ELLIPSIS}fight again. The &lt;b&gt;<b>cat</b>&lt;/b&gt; chases the mouse around the{ELLIPSIS}")
    assert excerpt_html(body, "<b>Tom</b> &amp; Jerry") == f"<b>Tom</b> &amp; Jerry{ELLIPSIS}"
