"""Validate request bodies against Elasticsearch's published OpenAPI specification.

The spec (tests/fixtures/elasticsearch-serverless-openapi.json, from
elastic/elasticsearch-specification; see ../shared/data/elasticsearch-spec/README.md)
is the nearest thing to Elasticsearch these machines have. As its README
advises, ``oneOf`` is read as ``anyOf`` (ES unions overlap, so ``oneOf`` fails
correct bodies), and our bodies use the long query forms the spec models.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.conftest import ROOT

SPEC_FILE = ROOT / "tests" / "fixtures" / "elasticsearch-serverless-openapi.json"
_URI = "urn:elasticsearch-spec"


def _any_of(node: Any) -> Any:
    if isinstance(node, dict):
        return {("anyOf" if k == "oneOf" else k): _any_of(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_any_of(v) for v in node]
    return node


@functools.cache
def _spec() -> dict[str, Any]:
    return _any_of(json.loads(SPEC_FILE.read_text()))


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource(_URI, Resource.from_contents(_spec(), default_specification=DRAFT202012))


def _pointer(path: str, method: str) -> str:
    """JSON pointer of the request-body schema of ``method path`` (following a requestBodies $ref)."""
    operation = _spec()["paths"][path][method]
    body = operation["requestBody"]
    if "$ref" in body:
        name = body["$ref"].rsplit("/", 1)[1]
        return f"/components/requestBodies/{name}/content/application~1json/schema"
    escaped = path.replace("~", "~0").replace("/", "~1")
    return f"/paths/{escaped}/{method}/requestBody/content/application~1json/schema"


def schema_errors(body: Any, path: str, method: str = "post", *, pointer: str | None = None) -> list[str]:
    """Every way ``body`` breaks the spec's schema for ``method path`` (or the schema at ``pointer``)."""
    ref = f"{_URI}#{pointer or _pointer(path, method)}"
    validator = jsonschema.Draft202012Validator({"$ref": ref}, registry=_registry())
    return [f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message[:300]}"
            for e in validator.iter_errors(body)]


def component_errors(body: Any, component: str) -> list[str]:
    return schema_errors(body, "", pointer=f"/components/schemas/{component}")
