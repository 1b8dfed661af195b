"""es_errors: the one place the elasticsearch client's exceptions become ours, and the call sites using it.

The errors are built as the client builds them (an ApiResponseMeta with Elasticsearch's product header, or
without it for another server); the clients are stand-ins that raise them, since the backend against a real
cluster is the conformance suite's Elasticsearch leg.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import elastic_transport
import elasticsearch
import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig

from workers.core.errors import ConfigError, IndexingError, QuerySyntaxError, RetryableIndexingError
from workers.search.elasticsearch.errors import CLIENT_ERRORS, es_errors, or_missing


def api_error(status: int, *, elastic: bool = True, body: Any = None,
              kind: type[elasticsearch.ApiError] = elasticsearch.ApiError) -> elasticsearch.ApiError:
    headers = HttpHeaders({"X-Elastic-Product": "Elasticsearch"} if elastic else {})
    meta = ApiResponseMeta(status=status, http_version="1.1", duration=0.0, headers=headers,
                           node=NodeConfig("http", "localhost", 9200))
    body = body if body is not None else {}
    # The message as the client makes it: the body's error, by its type when it has one.
    message = body.get("error", str(body)) if isinstance(body, dict) else str(body)
    if isinstance(message, dict) and "type" in message:
        message = message["type"]
    return kind(message, meta=meta, body=body)


def raising(exc: Exception) -> Callable[..., Any]:
    def call(*_args: Any, **_kwargs: Any) -> Any:
        raise exc
    return call


@pytest.mark.parametrize(("exc", "kind", "reason"), [
    (elastic_transport.ConnectionError("refused"), RetryableIndexingError, "index.unavailable"),
    (elastic_transport.ConnectionTimeout("slow"), RetryableIndexingError, "index.unavailable"),
    (elastic_transport.SerializationError("bad json"), RetryableIndexingError, "index.unavailable"),
    (api_error(429), RetryableIndexingError, "index.throttled"),
    (api_error(503), RetryableIndexingError, "index.unavailable"),
    (api_error(401), IndexingError, "index.auth"),
    (api_error(400), IndexingError, "index.es_400"),
    (api_error(400, elastic=False), IndexingError, "index.not_elasticsearch"),
    (KeyError("hits"), IndexingError, "index.crash"),
])
def test_the_block_raises_our_error_from_the_clients(exc: Exception, kind: type[IndexingError],
                                                     reason: str) -> None:
    with pytest.raises(IndexingError) as caught, es_errors("bulk"):
        raise exc
    assert type(caught.value) is kind and caught.value.reason == reason
    assert caught.value.__cause__ is exc
    assert "(bulk)" in str(caught.value)


def test_nothing_raised_nothing_changed() -> None:
    with es_errors("count"):
        value = 3
    assert value == 3


def test_client_errors_only_lets_our_own_and_other_errors_through() -> None:
    for exc in (ConfigError("an index named like the alias"), KeyError("hits")):
        with pytest.raises(type(exc)) as caught, es_errors("percolate", catch=CLIENT_ERRORS):
            raise exc
        assert caught.value is exc
    with pytest.raises(RetryableIndexingError), es_errors("percolate", catch=CLIENT_ERRORS):
        raise elastic_transport.ConnectionError("refused")
    with pytest.raises(IndexingError) as caught, es_errors("percolate", catch=CLIENT_ERRORS):
        raise api_error(200, kind=elasticsearch.UnsupportedProductError)
    assert caught.value.reason == "index.not_elasticsearch"


def test_keep_passes_the_named_exceptions_untouched() -> None:
    error = QuerySyntaxError("unbalanced quote")
    with pytest.raises(QuerySyntaxError) as caught, es_errors("search", keep=QuerySyntaxError):
        raise error
    assert caught.value is error


def test_or_missing_is_none_only_when_elasticsearch_itself_says_404() -> None:
    assert or_missing(lambda: {"count": 1}, where="count") == {"count": 1}
    assert or_missing(raising(api_error(404, kind=elasticsearch.NotFoundError)), where="get") is None
    with pytest.raises(IndexingError) as caught:
        or_missing(raising(api_error(404, elastic=False, kind=elasticsearch.NotFoundError)), where="get")
    assert caught.value.reason == "index.not_elasticsearch"
    with pytest.raises(RetryableIndexingError):
        or_missing(raising(elastic_transport.ConnectionError("refused")), where="get")
    with pytest.raises(IndexingError) as caught:
        or_missing(raising(QuerySyntaxError("x")), where="search")
    assert caught.value.reason == "index.crash"
    with pytest.raises(QuerySyntaxError):
        or_missing(raising(QuerySyntaxError("x")), where="search", keep=QuerySyntaxError)


# -- the call sites -------------------------------------------------------------------------------------------


class Indices:
    def __init__(self, create: Callable[..., Any]) -> None:
        self.create = create

    def get_alias(self, **_kwargs: Any) -> Any:
        raise api_error(404, kind=elasticsearch.NotFoundError)

    def get(self, **_kwargs: Any) -> Any:
        raise api_error(404, kind=elasticsearch.NotFoundError)

    def exists(self, **_kwargs: Any) -> bool:
        return False

    def put_index_template(self, **_kwargs: Any) -> None:
        return None


class Client:
    def __init__(self, create: Callable[..., Any]) -> None:
        self.indices = Indices(create)


def test_ensure_index_takes_a_concurrent_create_and_raises_any_other_refusal() -> None:
    from workers.search.elasticsearch.index import ensure_index

    exists = api_error(400, body={"error": {"type": "resource_already_exists_exception", "reason": "exists"}},
                       kind=elasticsearch.BadRequestError)
    assert ensure_index(Client(raising(exists)), "news", template={"template": {}}) == "news-v1"  # type: ignore[arg-type]
    with pytest.raises(IndexingError) as caught:
        ensure_index(Client(raising(api_error(400))), "news", template={"template": {}})  # type: ignore[arg-type]
    assert caught.value.reason == "index.es_400" and "(create news-v1)" in str(caught.value)


def test_search_answers_empty_without_an_index_and_keeps_query_errors(tmp_path: Any,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from workers.search.elasticsearch.backend import ElasticsearchBackend
    from workers.search.model import SearchQuery
    from workers.settings import Settings

    backend = ElasticsearchBackend(Settings(data_dir=tmp_path / "data", elasticsearch_url="http://127.0.0.1:1"))
    try:
        monkeypatch.setattr(backend, "_search", raising(api_error(404, kind=elasticsearch.NotFoundError)))
        result = backend.search(SearchQuery(text="x", facets=["domain"], histogram="day"))
        assert (result.total, result.hits, result.facets, result.histogram) == (0, [], {"domain": []}, [])
        monkeypatch.setattr(backend, "_search", raising(QuerySyntaxError("unbalanced quote")))
        with pytest.raises(QuerySyntaxError):
            backend.search(SearchQuery(text="x"))
        monkeypatch.setattr(backend, "_search", raising(api_error(404, elastic=False,
                                                                  kind=elasticsearch.NotFoundError)))
        with pytest.raises(IndexingError) as caught:
            backend.search(SearchQuery(text="x"))
        assert caught.value.reason == "index.not_elasticsearch" and "(search)" in str(caught.value)
    finally:
        backend.close()
