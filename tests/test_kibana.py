"""Kibana saved objects: well-formed NDJSON, references that resolve, fields that exist; the import request."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.site import FixtureSite
from workers.core.errors import ConfigError
from workers.search.elasticsearch.kibana import (
    DATA_VIEW_ID,
    KibanaAuth,
    import_request,
    import_saved_objects,
    load_objects,
)
from workers.search.elasticsearch.requests import load_template
from workers.state.embedded_redis import free_port

NDJSON = ROOT / "config" / "kibana" / "newsworkers.ndjson"


def template_fields() -> set[str]:
    properties = load_template()["template"]["mappings"]["properties"]
    fields = set(properties)
    for name, spec in properties.items():
        fields |= {f"{name}.{sub}" for sub in spec.get("fields", {})}
    return fields


def referenced_fields(obj: dict[str, Any]) -> set[str]:
    attributes = obj["attributes"]
    fields: set[str] = set()
    if obj["type"] == "index-pattern":
        fields.add(attributes["timeFieldName"])
    if obj["type"] == "search":
        fields |= set(attributes["columns"]) | {column for column, _order in attributes["sort"]}
    if obj["type"] == "visualization":
        for agg in json.loads(attributes["visState"])["aggs"]:
            if "field" in agg["params"]:
                fields.add(agg["params"]["field"])
    if obj["type"] == "map":
        for layer in json.loads(attributes["layerListJSON"]):
            source = layer["sourceDescriptor"]
            fields |= {source[key] for key in ("geoField", "sortField") if key in source}
            fields |= set(source.get("tooltipProperties", []))
    return fields


def test_every_line_is_a_saved_object() -> None:
    lines = NDJSON.read_text().splitlines()
    assert lines and all(line.strip() for line in lines)
    objects = [json.loads(line) for line in lines]
    for obj in objects:
        assert {"type", "id", "attributes", "references"} <= set(obj), obj.get("id")
        assert obj["attributes"]["title"]
        for key in ("visState", "panelsJSON", "optionsJSON", "uiStateJSON", "mapStateJSON", "layerListJSON"):
            if key in obj["attributes"]:
                json.loads(obj["attributes"][key])  # the JSON-in-a-string attributes parse
        if "kibanaSavedObjectMeta" in obj["attributes"]:
            json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    assert len({(o["type"], o["id"]) for o in objects}) == len(objects)


def test_the_objects_the_issue_asks_for() -> None:
    objects = {o["id"]: o for o in load_objects(NDJSON)}
    view = objects[DATA_VIEW_ID]
    assert view["type"] == "index-pattern"
    assert view["attributes"]["title"] == "newsworkers-articles"
    assert view["attributes"]["timeFieldName"] == "@timestamp"
    searches = [o for o in objects.values() if o["type"] == "search"]
    assert searches and {"title", "source_name", "persons"} <= set(searches[0]["attributes"]["columns"])
    (dashboard,) = [o for o in objects.values() if o["type"] == "dashboard"]
    shown = {ref["id"] for ref in dashboard["references"]}
    fields_shown = set().union(*(referenced_fields(objects[i]) for i in shown))
    assert {"@timestamp", "source_name", "persons", "organizations", "locations", "language", "domain"} <= fields_shown


def test_the_dashboard_maps_articles_by_their_places() -> None:
    objects = {o["id"]: o for o in load_objects(NDJSON)}
    (dashboard,) = [o for o in objects.values() if o["type"] == "dashboard"]
    maps = [objects[ref["id"]] for ref in dashboard["references"] if ref["type"] == "map"]
    assert len(maps) == 1
    (found,) = maps
    properties = load_template()["template"]["mappings"]["properties"]
    layers = json.loads(found["attributes"]["layerListJSON"])
    data_layers = [layer for layer in layers if layer["sourceDescriptor"]["type"].startswith("ES_")]
    assert {layer["sourceDescriptor"]["type"] for layer in data_layers} == {"ES_GEO_GRID", "ES_SEARCH"}
    references = {ref["name"]: ref for ref in found["references"]}
    for layer in data_layers:
        source = layer["sourceDescriptor"]
        assert properties[source["geoField"]]["type"] == "geo_point"
        # Each data layer reads the articles' data view, through a reference Kibana resolves on import.
        assert references[source["indexPatternRefName"]] == {
            "name": source["indexPatternRefName"], "type": "index-pattern", "id": DATA_VIEW_ID}
    # Every panel has a place of its own on the grid.
    cells = set()
    for panel in json.loads(dashboard["attributes"]["panelsJSON"]):
        grid = panel["gridData"]
        xs, ys = range(grid["x"], grid["x"] + grid["w"]), range(grid["y"], grid["y"] + grid["h"])
        area = {(x, y) for x in xs for y in ys}
        assert not area & cells, f"panel {panel['panelIndex']} overlaps another"
        cells |= area
    countries = [objects[ref["id"]] for ref in dashboard["references"] if ref["type"] == "visualization"
                 and "countries" in referenced_fields(objects[ref["id"]])]
    assert countries, "the dashboard counts articles per country"


def test_references_resolve_and_fields_exist_in_the_template() -> None:
    objects = load_objects(NDJSON)
    known = {(o["type"], o["id"]) for o in objects}
    fields = template_fields()
    for obj in objects:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in known, f"{obj['id']} refers to missing {ref}"
        missing = referenced_fields(obj) - fields
        assert not missing, f"{obj['id']} uses fields the index template lacks: {missing}"
    for obj in objects:
        if obj["type"] == "dashboard":
            names = {p["panelRefName"] for p in json.loads(obj["attributes"]["panelsJSON"])}
            assert names == {r["name"] for r in obj["references"]}


def test_the_data_view_follows_the_alias_setting() -> None:
    objects = load_objects(NDJSON, alias="acme-news")
    assert next(o for o in objects if o["id"] == DATA_VIEW_ID)["attributes"]["title"] == "acme-news"


def test_import_request_shape() -> None:
    objects = load_objects(NDJSON)
    request = import_request("http://kibana:5601/", KibanaAuth(api_key="aWQ6a2V5"), objects, space="news")
    assert request["url"] == "http://kibana:5601/s/news/api/saved_objects/_import"
    assert request["params"] == {"overwrite": "true"}
    assert request["headers"] == {"kbn-xsrf": "newsworkers", "Authorization": "ApiKey aWQ6a2V5"}
    name, body, content_type = request["files"]["file"]
    assert (name, content_type) == ("newsworkers.ndjson", "application/ndjson")
    assert [json.loads(line) for line in body.decode().splitlines()] == objects
    basic = import_request("http://k", KibanaAuth(username="elastic", password="pw"), [])
    assert basic["headers"]["Authorization"] == "Basic ZWxhc3RpYzpwdw=="
    assert basic["url"] == "http://k/api/saved_objects/_import"


def test_import_errors_are_named(site: FixtureSite) -> None:
    with pytest.raises(ConfigError) as caught:
        import_saved_objects(f"http://127.0.0.1:{free_port()}", KibanaAuth(), timeout_s=2)
    assert caught.value.reason == "kibana.connect"
    # A web server that is not Kibana: its answer is not mistaken for an import.
    with pytest.raises(ConfigError) as caught:
        import_saved_objects(site.url("/not-kibana"), KibanaAuth(), timeout_s=2)
    assert caught.value.reason.startswith("kibana.http_")
