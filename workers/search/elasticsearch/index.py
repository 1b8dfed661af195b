"""The versioned Elasticsearch index behind one alias: create, status, migrate, drop.

Documents live in ``<alias>-v1``, ``<alias>-v2``...; readers and writers only
ever name the alias. ``migrate`` creates the next version from the current
template, copies every document into it, moves the alias in one atomic
``_aliases`` call, then copies the documents written to the old index
meanwhile that the new one lacks (an update, during those minutes, of a
document already copied, or a delete, is not carried over: run it with the
index workers stopped when that matters). The old index is kept until
:func:`drop_old` is asked to delete it.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch

from workers.core.errors import ConfigError, IndexingError
from workers.search.elasticsearch import percolator as pc
from workers.search.elasticsearch import requests as rq
from workers.search.elasticsearch.errors import es_errors, or_missing

__all__ = [
    "alias_target", "drop_old", "ensure_index", "ensure_saved_searches_index", "index_status", "migrate",
    "next_saved_searches_index", "saved_searches_status", "swap_alias", "versions",
]

# Documents indexed during the reindex are caught up after the swap; a margin covers clocks between machines.
_CATCH_UP_MARGIN = timedelta(minutes=5)
_REINDEX_POLL_S = 1.0


def _version_of(alias: str, index: str) -> int | None:
    found = re.fullmatch(rf"{re.escape(alias)}-v(\d+)", index)
    return int(found.group(1)) if found else None


def versions(client: Elasticsearch, alias: str) -> dict[str, int]:
    """Every index of ours (name → version), oldest first."""
    names = or_missing(lambda: client.indices.get(index=f"{alias}-v*", expand_wildcards="open,closed").body,
                       where="list indices")
    if names is None:
        return {}
    found = {name: v for name in names if (v := _version_of(alias, name)) is not None}
    return dict(sorted(found.items(), key=lambda kv: kv[1]))


def alias_target(client: Elasticsearch, alias: str) -> str | None:
    """The index the alias points at, or None when there is no alias yet."""
    body = or_missing(lambda: client.indices.get_alias(name=alias).body, where="read alias")
    if body is None:
        return None
    targets = sorted(body)
    if len(targets) > 1:
        writers = [i for i in targets if body[i]["aliases"][alias].get("is_write_index")]
        return writers[0] if writers else targets[-1]
    return targets[0] if targets else None


def put_template(client: Elasticsearch, alias: str, template: dict[str, Any] | None = None) -> None:
    body = rq.index_template_body(template or rq.load_template(), alias)
    with es_errors("put index template"):
        client.indices.put_index_template(name=rq.template_name(alias), body=body)


def ensure_index(client: Elasticsearch, alias: str, *, template: dict[str, Any] | None = None) -> str:
    """Template installed and the alias pointing at an index; returns that index. Idempotent.
    ``template`` replaces the articles template (the saved searches use it: :func:`ensure_saved_searches_index`)."""
    target = alias_target(client, alias)
    if target is not None:
        return target
    with es_errors("check the alias name"):
        taken = bool(client.indices.exists(index=alias))
    if taken:
        raise ConfigError(f"Elasticsearch has an index (not an alias) named {alias!r}; newsworkers needs that name "
                          "for its alias: reindex it elsewhere and delete it, or set NEWSWORKERS_ELASTICSEARCH_INDEX")
    put_template(client, alias, template)
    existing = versions(client, alias)
    index = rq.versioned_index(alias, max(existing.values(), default=0) + 1)
    try:
        with es_errors(f"create {index}"):
            client.indices.create(index=index, body=rq.create_index_body(alias))
    except IndexingError as error:
        # Another consumer created it at the same moment: fine. Elasticsearch's own words are in the cause.
        if "resource_already_exists" not in str(error.__cause__):
            raise
    return alias_target(client, alias) or index


def ensure_saved_searches_index(client: Elasticsearch, alias: str) -> str:
    """The saved searches' percolator index behind ``<alias>-saved-searches``, created like the articles one.

    Not called by :func:`ensure_index`: a deployment without saved searches needs no percolator index, and
    its migration (stored queries re-stored when the article mapping changes) belongs with the saved searches.
    """
    return ensure_index(client, pc.saved_searches_alias(alias), template=pc.saved_searches_template())


def saved_searches_status(client: Elasticsearch, alias: str) -> dict[str, Any]:
    """The saved-searches index behind its alias, and whether its mapping is of today's articles schema.

    Elasticsearch keeps stored queries parsed against the mapping they were stored with, and the mapping is
    strict: after the articles schema changes, percolating a new article fails until the index is migrated.
    """
    saved_alias = pc.saved_searches_alias(alias)
    wanted = _articles_version(pc.saved_searches_template()["template"]["mappings"])
    target = alias_target(client, saved_alias)
    if target is None:
        return {"alias": saved_alias, "index": None, "articles_schema_version": None,
                "template_articles_schema_version": wanted, "needs_migrate": False}
    with es_errors(f"mapping of {target}"):
        mappings = client.indices.get_mapping(index=target).body[target]["mappings"]
    have = _articles_version(mappings)
    return {"alias": saved_alias, "index": target, "articles_schema_version": have,
            "template_articles_schema_version": wanted, "needs_migrate": have != wanted}


def next_saved_searches_index(client: Elasticsearch, alias: str) -> str:
    """The next version of the saved-searches index, from today's template and without the alias yet: the
    caller stores every saved search in it before :func:`swap_alias` makes it the one percolated."""
    saved_alias = pc.saved_searches_alias(alias)
    put_template(client, saved_alias, pc.saved_searches_template())
    new = rq.versioned_index(saved_alias, max(versions(client, saved_alias).values(), default=0) + 1)
    with es_errors(f"create {new}"):
        client.indices.create(index=new, body=rq.create_index_body(None))
    return new


def swap_alias(client: Elasticsearch, alias: str, old: str | None, new: str) -> None:
    with es_errors(f"move {alias} to {new}"):
        client.indices.update_aliases(body=rq.alias_swap_body(alias, old, new))


def _articles_version(mappings: dict[str, Any]) -> int | None:
    version = mappings.get("_meta", {}).get("newsworkers", {}).get("articles_schema_version")
    return int(version) if version is not None else None


def index_status(client: Elasticsearch, alias: str) -> dict[str, Any]:
    target = alias_target(client, alias)
    template_version = rq.schema_version(rq.load_template()["template"]["mappings"])
    indices = []
    for name, version in versions(client, alias).items():
        with es_errors(f"status of {name}"):
            count = int(client.count(index=name).body["count"])
            mappings = client.indices.get_mapping(index=name).body[name]["mappings"]
        indices.append({"index": name, "version": version, "documents": count, "alias": name == target,
                        "schema_version": rq.schema_version(mappings)})
    live = next((i for i in indices if i["alias"]), None)
    return {"alias": alias, "index": target, "indices": indices, "template_schema_version": template_version,
            "needs_migrate": bool(live and live["schema_version"] != template_version)}


def migrate(client: Elasticsearch, alias: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Next version from the current template, reindexed, alias swapped atomically; the old index is kept."""
    old = alias_target(client, alias)
    if old is None:
        return {"created": ensure_index(client, alias), "from": None, "copied": 0}
    put_template(client, alias)
    new = rq.versioned_index(alias, max(versions(client, alias).values(), default=0) + 1)
    started = (now or datetime.now(UTC)) - _CATCH_UP_MARGIN
    with es_errors(f"migrate {old} to {new}"):
        client.indices.create(index=new, body=rq.create_index_body(None))
        copied = _reindex(client, rq.reindex_body(old, new))
        client.indices.update_aliases(body=rq.alias_swap_body(alias, old, new))
        caught_up = _reindex(client, rq.reindex_body(old, new, indexed_since=started))
    failures = [*copied.get("failures", []), *caught_up.get("failures", [])]
    return {"created": new, "from": old, "copied": int(copied.get("total", 0)),
            "caught_up": int(caught_up.get("created", 0)), "failures": failures[:10]}


def _reindex(client: Elasticsearch, body: dict[str, Any]) -> dict[str, Any]:
    """Run a reindex as a background task and wait for it: a large index takes longer than any request timeout."""
    task = client.reindex(body=body, wait_for_completion=False, refresh=True).body["task"]
    while True:
        # Each wait is one short request; the task itself runs on as long as it needs.
        found = client.tasks.get(task_id=task, wait_for_completion=True, timeout="20s").body
        if found.get("completed"):
            if found.get("error"):
                raise IndexingError(f"reindex task {task} failed: {found['error']}", reason="index.reindex")
            return dict(found.get("response", {}))
        time.sleep(_REINDEX_POLL_S)


def drop_old(client: Elasticsearch, alias: str) -> list[str]:
    """Delete every version the alias no longer points at; returns their names."""
    target = alias_target(client, alias)
    old = [name for name in versions(client, alias) if name != target]
    for name in old:
        with es_errors(f"delete {name}"):
            client.indices.delete(index=name)
    return old
