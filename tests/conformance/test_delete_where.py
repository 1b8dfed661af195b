"""Deleting by query, on every backend: ``ids_where`` reads every match, ``delete_where`` removes them,
and the takedown's domain selection finds a domain's subdomains among the indexed ``domain`` values."""

from __future__ import annotations

from datetime import timedelta

from tests.conformance.corpus import ARTICLES, ID, KEY, article, day
from workers.pipeline.index.deletion import Selection, delete_selected, domain_values, selected_ids
from workers.search.backend import SearchBackend
from workers.search.model import SearchQuery


def test_ids_where_reads_every_match_past_any_page(empty_backend: SearchBackend) -> None:
    empty_backend.upsert(list(ARTICLES.values()))
    assert {KEY[i] for i in empty_backend.ids_where(SearchQuery())} == set(ARTICLES)
    assert {KEY[i] for i in empty_backend.ids_where(SearchQuery(filters={"domain": ["example.com"]}))} == {
        "a1", "a6", "a8"}
    # published_at at or before the bound, like the search's inclusive date range
    assert {KEY[i] for i in empty_backend.ids_where(SearchQuery(until=day(8)))} == {"a3", "a5", "a7"}
    assert {KEY[i] for i in empty_backend.ids_where(SearchQuery(text="baghdad", until=day(10)))} == {"a1"}
    assert empty_backend.ids_where(SearchQuery(filters={"domain": ["nowhere.example"]})) == []


def test_delete_where_removes_what_the_query_finds(empty_backend: SearchBackend) -> None:
    empty_backend.upsert(list(ARTICLES.values()))
    assert empty_backend.delete_where(SearchQuery(filters={"domain": ["news.org"]}, until=day(12))) == 1
    assert empty_backend.get(ID["a2"]) is None and empty_backend.get(ID["a4"]) is not None
    assert empty_backend.delete_where(SearchQuery(filters={"domain": ["nowhere.example"]})) == 0
    assert empty_backend.count() == len(ARTICLES) - 1


def test_many_documents_are_all_found_and_deleted(empty_backend: SearchBackend) -> None:
    docs = [article(f"bulk{i}", title=f"Item {i}", body=f"Body number {i}.", domain="bulk.example",
                    published_at=day(1) + timedelta(minutes=i)) for i in range(250)]
    empty_backend.upsert(docs)
    assert len(set(empty_backend.ids_where(SearchQuery(filters={"domain": ["bulk.example"]})))) == 250
    assert empty_backend.delete_where(SearchQuery(filters={"domain": ["bulk.example"]})) == 250
    assert empty_backend.count() == 0


def test_a_domain_selects_its_subdomains_and_nothing_else(empty_backend: SearchBackend) -> None:
    extra = [article(k, title=k, body=f"Story {k}.", domain=d, published_at=day(2))
             for k, d in [("s1", "news.example.com"), ("s2", "deep.news.example.com"), ("s3", "badexample.com")]]
    empty_backend.upsert([*ARTICLES.values(), *extra])
    assert domain_values(empty_backend, "example.com") == ["deep.news.example.com", "example.com",
                                                           "news.example.com"]
    assert domain_values(empty_backend, "www.example.com") == ["example.com"]  # hosts are stored without www.
    selection = Selection(domain="example.com")
    assert len(selected_ids(empty_backend, selection)) == 5
    assert delete_selected(empty_backend, None, selection) == 5
    assert {KEY.get(i, i) for i in empty_backend.ids_where(SearchQuery())} == (
        set(ARTICLES) - {"a1", "a6", "a8"}) | {extra[2].id}
    # An age bound and a domain that matches nothing select nothing; an empty selection never selects all.
    assert delete_selected(empty_backend, None, Selection(domain="nowhere.example", before=day(30))) == 0
    assert delete_selected(empty_backend, None, Selection()) == 0
    assert empty_backend.count() == len(ARTICLES) - 3 + 1
