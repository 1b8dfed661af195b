"""Schemathesis against the alerts router's own OpenAPI document: no 500s, and every answer as documented.

Over real Redis and a real (empty) Tantivy index, with an API key so the write paths are fuzzed too. Two
checks are left out, both about what the document cannot say: Starlette answers OPTIONS with the methods of
the first route of a path only (``Allow``), and a query's grammar is not a JSON schema, so a schema-valid
but unparseable query is rightly a 400.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import allow_header_conformance, positive_data_acceptance

from tests.conftest import LOOPBACK_SETTINGS
from workers.api.deps import add_error_handlers
from workers.api.routes_alerts import router
from workers.search.tantivy.backend import TantivyBackend
from workers.settings import Settings

pytestmark = pytest.mark.slow


def _app() -> FastAPI:
    # Module level, since schemathesis parametrizes from the schema at collection; the Redis URL is read when
    # the first request comes, from the test's settings (see the fixture below).
    app = FastAPI()
    app.include_router(router)
    add_error_handlers(app)  # as create_app does
    return app


APP = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _state(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[None]:
    directory: Path = tmp_path_factory.mktemp("alerts-fuzz")
    namespace = f"t{uuid.uuid4().hex[:10]}"
    settings = Settings(data_dir=directory / "data", redis_url=redis_url, namespace=namespace,
                        api_keys="fuzz-key", **LOOPBACK_SETTINGS)
    TantivyBackend(settings.index_dir, writer=True).close()
    APP.state.settings = settings
    APP.state.backend = TantivyBackend(settings.index_dir)
    yield
    client = redis.Redis.from_url(redis_url)  # only this module's keys: the Redis may be someone else's
    keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@schema.parametrize()
@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_alerts_api_answers_as_documented(case: schemathesis.Case) -> None:
    case.call_and_validate(excluded_checks=[allow_header_conformance, positive_data_acceptance],
                           headers={"X-API-Key": "fuzz-key"})
