"""Schemathesis against the API over a small real index: the OpenAPI document is true.

Generated requests (within and beyond what the schema allows) must never get a 500, and every answer must
conform to the schema: status code documented, content type and body as declared.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.conformance.corpus import ARTICLES
from workers.api import create_app
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings

pytestmark = pytest.mark.slow


CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]
MAX_EXAMPLES = 30  # per operation; the whole run stays well under a minute


@pytest.fixture
def api_schema(settings: Settings) -> Any:
    writer = TantivyBackend(settings.index_dir, writer=True)
    try:
        writer.upsert(list(ARTICLES.values()))
    finally:
        writer.close()
    # A short inspect timeout: /api/status asks Celery for workers, and none run here.
    app = create_app(settings.model_copy(update={"status_ping_timeout_s": 0.2}))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_api_answers_as_its_openapi_document_says(api_schema: Any) -> None:
    # Driven through Hypothesis directly (schemathesis's pytest plugin does not load with this pytest).
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/search", "/api/articles/{doc_id}", "/api/export",
                                              "/api/status", "/api/feeds"}
    for operation in operations:
        examples = 3 if operation.path == "/api/status" else MAX_EXAMPLES

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: Any) -> None:
            case.call_and_validate(checks=CHECKS)

        check()
