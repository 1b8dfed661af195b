"""One search conformance suite, run against every backend.

The Tantivy leg always runs, on a real index on disk. The Elasticsearch leg
runs against the real cluster named by ``ELASTICSEARCH_URL`` (credentials from
the usual ``NEWSWORKERS_ELASTICSEARCH_*`` variables), each test module in an
alias and indices of its own that it deletes afterwards; without
``ELASTICSEARCH_URL`` it is skipped, saying so. There is no stand-in for
Elasticsearch here.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from workers.search.backend import SearchBackend
from workers.settings import Settings

BACKENDS = ("tantivy", "elasticsearch")
NO_CLUSTER = "ELASTICSEARCH_URL is not set: the Elasticsearch leg needs a real cluster (e.g. ELASTICSEARCH_URL=http://localhost:9200)"


def open_for_test(kind: str, directory: Path) -> tuple[SearchBackend, Callable[[], None]]:
    """A writable, empty backend of ``kind`` and the function that removes what it wrote."""
    if kind == "tantivy":
        from workers.search.tantivy.backend import TantivyBackend

        backend = TantivyBackend(directory / "index", writer=True)
        return backend, backend.close
    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        pytest.skip(NO_CLUSTER)
    from workers.search.elasticsearch import requests as es_requests
    from workers.search.elasticsearch.backend import ElasticsearchBackend
    from workers.search.elasticsearch.index import versions

    alias = f"nwtest-{uuid.uuid4().hex[:10]}"
    settings = Settings(data_dir=directory / "data", elasticsearch_url=url, elasticsearch_index=alias)
    backend = ElasticsearchBackend(settings, writer=True)
    backend.ensure_index()

    def remove() -> None:
        # By name: clusters refuse wildcard deletes by default (action.destructive_requires_name).
        for name in versions(backend.client, alias):
            backend.client.indices.delete(index=name)
        backend.client.options(ignore_status=404).indices.delete_index_template(name=es_requests.template_name(alias))
        backend.close()

    return backend, remove


@pytest.fixture(params=BACKENDS)
def empty_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    """A fresh backend for the tests that write."""
    backend, remove = open_for_test(request.param, tmp_path)
    try:
        yield backend
    finally:
        remove()


@pytest.fixture(scope="module", params=BACKENDS)
def module_backend(request: pytest.FixtureRequest,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchBackend]:
    """One backend per module and kind, for read-only tests over a corpus the module indexes once."""
    backend, remove = open_for_test(request.param, tmp_path_factory.mktemp(request.param))
    try:
        yield backend
    finally:
        remove()
