"""Bulk writing policy and error translation of the Elasticsearch backend.

The retry policy is a plain function of the bulk responses Elasticsearch
documents (``items[].index.status/error``); these tests feed it such
responses, written out below, to pin what it resends, fails and raises. They
are responses, not an Elasticsearch: the backend against a real cluster is the
conformance suite's Elasticsearch leg. The connection errors below are real
(a closed port, a web server that is not Elasticsearch).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.site import FixtureSite
from workers.core.errors import IndexingError, RetryableIndexingError
from workers.search.elasticsearch.bulk import BulkPolicy, BulkRejected, chunk_lines, send_bulk
from workers.search.elasticsearch.errors import ItemVerdict, item_verdict
from workers.search.model import SearchQuery
from workers.settings import Settings
from workers.state.embedded_redis import free_port

POLICY = BulkPolicy(max_docs=100, max_bytes=2**20, retries=3, backoff_s=0.5, backoff_max_s=4.0)
MAPPING_ERROR = {"type": "document_parsing_exception", "reason": "[1:30] failed to parse field [word_count]",
                 "caused_by": {"type": "number_format_exception", "reason": "For input string: \"many\""}}
REJECTED_EXECUTION = {"type": "es_rejected_execution_exception", "reason": "rejected execution of coordinating"}


def lines(*ids: str) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    return [({"index": {"_index": "a", "_id": i}}, {"id": i}) for i in ids]


def item(doc_id: str, status: int, error: dict[str, Any] | None = None, op: str = "index") -> dict[str, Any]:
    result: dict[str, Any] = {"_index": "a-v1", "_id": doc_id, "status": status}
    if error:
        result["error"] = error
    return {op: result}


class Scripted:
    """Answers each bulk call with the next response (or raises it), recording what was sent."""

    def __init__(self, *responses: Any) -> None:
        self.responses = list(responses)
        self.sent: list[list[str]] = []

    def __call__(self, operations: list[dict[str, Any]]) -> dict[str, Any]:
        self.sent.append([next(iter(op.values()))["_id"] for op in operations if "index" in op or "delete" in op])
        response = self.responses.pop(0)
        if isinstance(response, Exception):
            raise response
        return response


def test_item_verdicts() -> None:
    assert item_verdict("index", {"status": 201}) == (ItemVerdict.ACCEPTED, None)
    assert item_verdict("index", {"status": 200}) == (ItemVerdict.ACCEPTED, None)
    assert item_verdict("delete", {"status": 404, "result": "not_found"}) == (ItemVerdict.ACCEPTED, None)
    assert item_verdict("index", {"status": 429, "error": REJECTED_EXECUTION})[0] is ItemVerdict.RETRY
    assert item_verdict("index", {"status": 503})[0] is ItemVerdict.RETRY
    verdict, why = item_verdict("index", {"status": 400, "error": MAPPING_ERROR})
    assert verdict is ItemVerdict.REJECTED
    assert why == ("document_parsing_exception: [1:30] failed to parse field [word_count] "
                   "(caused by number_format_exception: For input string: \"many\")")


def test_chunks_by_count_and_bytes() -> None:
    ten = lines(*[f"d{i}" for i in range(10)])
    assert [len(c) for c in chunk_lines(ten, 4, 2**20)] == [4, 4, 2]
    one_line = sum(len(str(p)) for p in ten[0])
    assert [len(c) for c in chunk_lines(ten, 100, 3 * one_line)] == [2, 2, 2, 2, 2]
    # An item larger than the byte budget still goes, alone.
    big = [({"index": {"_id": "big"}}, {"body": "x" * 5000}), *lines("s")]
    assert [len(c) for c in chunk_lines(big, 100, 1000)] == [1, 1]


def test_throttled_items_alone_are_resent_with_growing_jittered_waits() -> None:
    send = Scripted(
        {"errors": True, "items": [item("a", 201), item("b", 429, REJECTED_EXECUTION), item("c", 503)]},
        {"errors": True, "items": [item("b", 201), item("c", 429, REJECTED_EXECUTION)]},
        {"errors": False, "items": [item("c", 200)]},
    )
    waits: list[float] = []
    assert send_bulk(send, lines("a", "b", "c"), POLICY, sleep=waits.append, jitter=lambda: 0.5) == 3
    assert send.sent == [["a", "b", "c"], ["b", "c"], ["c"]]
    assert waits == [0.5, 1.0]
    jittered: list[float] = []
    send = Scripted({"items": [item("a", 429)]}, {"items": [item("a", 201)]})
    send_bulk(send, lines("a"), POLICY, sleep=jittered.append, jitter=lambda: 0.0)
    assert jittered == [0.25]


def test_retries_run_out_the_batch_is_given_back_as_throttled() -> None:
    send = Scripted(*[{"errors": True, "items": [item("a", 429, REJECTED_EXECUTION)]}] * 4)
    with pytest.raises(RetryableIndexingError) as caught:
        send_bulk(send, lines("a"), POLICY, sleep=lambda _s: None)
    assert caught.value.reason == "index.throttled"
    assert len(send.sent) == 4


def test_mapping_errors_are_permanent_and_named_per_document_after_the_rest_is_written() -> None:
    send = Scripted(
        {"errors": True, "items": [item("a", 201), item("bad", 400, MAPPING_ERROR)]},
        {"errors": True, "items": [item("c", 429)]},
        {"errors": False, "items": [item("c", 201)]},
    )
    policy = BulkPolicy(max_docs=2, max_bytes=2**20, retries=2, backoff_s=0.01)
    with pytest.raises(BulkRejected) as caught:
        send_bulk(send, lines("a", "bad", "c"), policy, sleep=lambda _s: None)
    assert caught.value.reason == "index.rejected"
    assert set(caught.value.rejected) == {"bad"}
    assert "document_parsing_exception" in caught.value.rejected["bad"]
    assert send.sent == [["a", "bad"], ["c"], ["c"]]  # the bad one was not resent; c got in after a 429


def test_a_response_that_does_not_account_for_every_item_is_an_error() -> None:
    send = Scripted({"errors": False, "items": [item("a", 201)]})
    with pytest.raises(IndexingError) as caught:
        send_bulk(send, lines("a", "b"), POLICY, sleep=lambda _s: None)
    assert caught.value.reason == "index.bad_response"


# -- real connections ---------------------------------------------------------------------------------------------


def es_settings(url: str, tmp_path: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", elasticsearch_url=url, elasticsearch_request_timeout_s=2.0,
                    elasticsearch_bulk_retries=1, elasticsearch_backoff_s=0.01)


def test_an_unreachable_cluster_is_retryable_index_unavailable(tmp_path: Any) -> None:
    from workers.search.backend import open_backend
    from workers.search.elasticsearch.backend import ElasticsearchBackend
    from workers.search.tantivy.backend import TantivyBackend

    assert isinstance(open_backend(Settings(data_dir=tmp_path / "d")), TantivyBackend)
    backend = open_backend(es_settings(f"http://127.0.0.1:{free_port()}", tmp_path), writer=True)
    assert isinstance(backend, ElasticsearchBackend)
    try:
        for call in (lambda: backend.search(SearchQuery(text="x")), backend.count, backend.ensure_index,
                     lambda: backend.delete(["x"])):
            with pytest.raises(RetryableIndexingError) as caught:
                call()
            assert caught.value.reason == "index.unavailable"
    finally:
        backend.close()


def test_a_web_server_that_is_not_elasticsearch_is_named(site: FixtureSite, tmp_path: Any) -> None:
    from workers.search.elasticsearch.backend import ElasticsearchBackend

    backend = ElasticsearchBackend(es_settings(site.url("/"), tmp_path))
    try:
        for call in (backend.count, lambda: backend.get("x"), lambda: backend.search(SearchQuery()),
                     backend.ensure_index):
            with pytest.raises(IndexingError) as caught:
                call()
            assert caught.value.reason == "index.not_elasticsearch"
    finally:
        backend.close()


def test_credentials_and_node_list_reach_the_client(tmp_path: Any) -> None:
    from workers.search.elasticsearch.backend import make_client

    settings = es_settings("http://127.0.0.1:1, http://127.0.0.1:2", tmp_path).model_copy(
        update={"elasticsearch_username": "elastic", "elasticsearch_password": "s3cret"})
    client = make_client(settings)
    try:
        nodes = sorted(node.base_url for node in client.transport.node_pool.all())
        assert nodes == ["http://127.0.0.1:1", "http://127.0.0.1:2"]
        assert client._headers["authorization"].startswith("Basic ")
    finally:
        client.close()
    keyed = make_client(settings.model_copy(update={"elasticsearch_api_key": "aWQ6a2V5"}))
    try:
        assert keyed._headers["authorization"] == "ApiKey aWQ6a2V5"
    finally:
        keyed.close()


def test_a_throttled_answer_carries_its_retry_after_in_either_form() -> None:
    import elasticsearch
    from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig

    from workers.search.elasticsearch.errors import translate

    def throttled(retry_after: str) -> elasticsearch.ApiError:
        meta = ApiResponseMeta(status=429, http_version="1.1", duration=0.0,
                               headers=HttpHeaders({"Retry-After": retry_after, "X-Elastic-Product": "Elasticsearch"}),
                               node=NodeConfig("http", "localhost", 9200))
        return elasticsearch.ApiError("too many requests", meta=meta, body={})

    assert translate(throttled("7")).retry_after_s == 7.0
    assert translate(throttled("Thu, 01 Jan 1970 00:00:00 GMT")).retry_after_s == 0.0
    assert translate(throttled("soon")).retry_after_s is None
