"""Paging past 10,000 hits: by offset in Tantivy, by search_after in Elasticsearch; the same pages either way."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.conformance.corpus import FETCHED
from workers.core.models import Article, DateSource
from workers.search.backend import SearchBackend
from workers.search.model import SearchQuery, Sort

COUNT = 10_100
START = datetime(2023, 1, 1, tzinfo=UTC)


def tiny(i: int) -> Article:
    # Ids sort like their numbers, dates grow with them: newest first is COUNT-1 down to 0.
    return Article(id=f"{i:032x}", id_version=1, url=f"https://deep.example/{i}", domain="deep.example",
                   title=f"Dispatch {i}", body="A short dispatch.", published_at=START + timedelta(minutes=i),
                   date_source=DateSource.PAGE, fetched_at=FETCHED, language="en" if i % 2 else "de")


@pytest.fixture(scope="module")
def deep(module_backend: SearchBackend) -> Iterator[SearchBackend]:
    started = time.monotonic()
    module_backend.upsert([tiny(i) for i in range(COUNT)])
    print(f"indexed {COUNT} documents in {time.monotonic() - started:.1f}s")
    yield module_backend


def numbers(backend: SearchBackend, **kwargs: object) -> tuple[int, list[int]]:
    result = backend.search(SearchQuery(**kwargs))  # type: ignore[arg-type]
    return result.total, [int(h.id, 16) for h in result.hits]


def newest_first(offset: int, limit: int) -> list[int]:
    return [n for n in range(COUNT - 1 - offset, COUNT - 1 - offset - limit, -1) if n >= 0]


def test_pages_past_ten_thousand_hits(deep: SearchBackend) -> None:
    assert deep.count() == COUNT
    assert numbers(deep, sort=Sort.DATE, limit=20, offset=10_050) == (COUNT, newest_first(10_050, 20))
    # A page that straddles the 10,000 boundary, and the last, short page.
    assert numbers(deep, sort=Sort.DATE, limit=20, offset=9_990) == (COUNT, newest_first(9_990, 20))
    assert numbers(deep, sort=Sort.DATE, limit=20, offset=10_090) == (COUNT, newest_first(10_090, 20))
    assert numbers(deep, sort=Sort.DATE, limit=20, offset=20_000) == (COUNT, [])


def test_deep_pages_with_a_query_and_a_filter(deep: SearchBackend) -> None:
    total, found = numbers(deep, text="dispatch", sort=Sort.DATE, limit=10, offset=5_040, filters={"language": ["en"]})
    assert total == COUNT // 2
    assert found == [n for n in newest_first(0, COUNT) if n % 2][5_040:5_050]
    total, found = numbers(deep, text="dispatch", sort=Sort.DATE, limit=5, offset=10_095)
    assert (total, found) == (COUNT, newest_first(10_095, 5))
