"""Search-side operator commands: the Elasticsearch index behind its alias, and the Kibana objects."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from workers.cli.options import AsJson, DataDir, console, settings_for
from workers.core.errors import ConfigError
from workers.settings import Settings

__all__: list[str] = []

index_app = typer.Typer(no_args_is_help=True, help="The search index: create, status, migrate, drop old versions.")
kibana_app = typer.Typer(no_args_is_help=True, help="Kibana: load the data view, saved search and dashboard.")


@contextlib.contextmanager
def _client(settings: Settings) -> Iterator[Any]:
    """A client of the configured cluster, closed on the way out."""
    if not settings.elasticsearch_url:
        raise ConfigError("this command manages the Elasticsearch index: set ELASTICSEARCH_URL "
                          "(the embedded Tantivy index needs no management)")
    from workers.search.elasticsearch.backend import make_client

    client = make_client(settings)
    try:
        yield client
    finally:
        client.close()


def _print(data: Any, as_json: bool, text: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    else:
        console.print(text)


@index_app.command("create")
def index_create(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Install the index template and create <alias>-v1 behind the alias (does nothing if it exists)."""
    from workers.search.elasticsearch.index import ensure_index

    settings = settings_for(data_dir)
    with _client(settings) as client:
        index = ensure_index(client, settings.elasticsearch_index)
    _print({"alias": settings.elasticsearch_index, "index": index}, as_json,
           f"alias [bold]{escape(settings.elasticsearch_index)}[/] → {escape(index)}")


@index_app.command("status")
def index_status(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Which index the alias points at, every version with its document count and mapping version."""
    settings = settings_for(data_dir)
    if not settings.elasticsearch_url:
        from workers.search.backend import open_backend
        from workers.search.tantivy.migrate import index_version
        from workers.search.tantivy.schema import SCHEMA_VERSION

        found = index_version(settings.index_dir)
        if found is not None and found != SCHEMA_VERSION:
            # The backend would refuse to open it; say what it is and how to move it on.
            _print({"backend": "tantivy", "path": str(settings.index_dir), "schema_version": found,
                    "current_schema_version": SCHEMA_VERSION, "needs_migrate": True}, as_json,
                   f"tantivy index at {escape(str(settings.index_dir))} has schema version {found}; this newsworkers "
                   f"writes {SCHEMA_VERSION}: [yellow]run `newsworkers index migrate`[/]")
            return
        backend = open_backend(settings)
        try:
            health = backend.health()
        finally:
            backend.close()
        _print(health, as_json, f"tantivy index at {escape(str(health['path']))}: {health['documents']} documents")
        return
    from workers.search.elasticsearch.index import index_status as status_of
    from workers.search.elasticsearch.index import saved_searches_status

    with _client(settings) as client:
        status = status_of(client, settings.elasticsearch_index)
        status["saved_searches"] = saved = saved_searches_status(client, settings.elasticsearch_index)
    target = status["index"] or "nothing (run `newsworkers index create`)"
    lines = [f"alias [bold]{escape(status['alias'])}[/] → {escape(target)}"]
    for index in status["indices"]:
        marker = "*" if index["alias"] else " "
        lines.append(f" {marker} {escape(index['index'])}: {index['documents']} documents, "
                     f"mapping version {index['schema_version']}")
    if status["needs_migrate"]:
        lines.append(f"[yellow]the template has mapping version {status['template_schema_version']}: "
                     "run `newsworkers index migrate`[/]")
    if saved["index"]:
        lines.append(f"saved searches [bold]{escape(saved['alias'])}[/] → {escape(saved['index'])}, "
                     f"articles mapping {saved['articles_schema_version']}")
    if saved["needs_migrate"]:
        lines.append(f"[yellow]the saved searches were stored against articles mapping "
                     f"{saved['articles_schema_version']}: run `newsworkers index migrate`[/]")
    _print(status, as_json, "\n".join(lines))


@index_app.command("migrate")
def index_migrate(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Create the next version from the current template, reindex into it, swap the alias atomically.
    The old index is kept until `newsworkers index drop`. With the embedded Tantivy index: rebuild it under
    the current schema from its stored articles (stop `newsworkers run` first; the old directory is kept)."""
    settings = settings_for(data_dir)
    if not settings.elasticsearch_url:
        _migrate_tantivy(settings, as_json)
        return
    from workers.search.elasticsearch.index import migrate

    with _client(settings) as client:
        result = migrate(client, settings.elasticsearch_index)
    text = (f"alias now → {escape(result['created'])}" + (
        f" ({result['copied']} documents copied from {escape(result['from'])}, {result.get('caught_up', 0)} caught "
        f"up; {escape(result['from'])} kept: `newsworkers index drop` deletes it)" if result["from"] else ""))
    saved = _migrate_saved_searches(data_dir)
    result["saved_searches"] = saved
    if saved and saved["migrated"]:
        text += (f"\nsaved searches: {saved['stored']} stored again in {escape(saved['created'])} "
                 f"(articles mapping {saved['articles_schema_version']} → {saved['template_articles_schema_version']})")
    _print(result, as_json, text)
    if result.get("failures"):
        raise typer.Exit(1)


def _migrate_saved_searches(data_dir: Path | None) -> dict[str, Any] | None:
    """The percolator index follows the articles mapping (its stored queries are parsed against it); the saved
    searches themselves are in Redis, so this needs it."""
    from workers.cli.alerts import open_alerts
    from workers.state.ownership import data_dir_holds_nothing

    settings = settings_for(data_dir)
    if not settings.redis_url and data_dir_holds_nothing(settings.data_dir):
        return None  # no Redis and nothing kept here: there are no saved searches to move
    with open_alerts(data_dir) as alerts:
        return alerts.migrate_percolator()


def _migrate_tantivy(settings: Settings, as_json: bool) -> None:
    from workers.search.tantivy.migrate import migrate_index
    from workers.state.ownership import DataDirLock

    lock = DataDirLock(settings.data_dir)
    if not lock.acquire():
        raise ConfigError(f"another process (pid {lock.owner_pid()}) owns {settings.data_dir} and may be writing "
                          "its index: stop `newsworkers run` and migrate again")
    try:
        result = migrate_index(settings.index_dir)
    finally:
        lock.release()
    if result["current"]:
        text = f"the index at {escape(result['path'])} already has schema version {result['to_version']}"
    else:
        text = (f"{result['copied']} documents moved from schema version {result['from_version']} to "
                f"{result['to_version']}; the old index is kept at {escape(result['kept'])} (delete it when done)")
    _print(result, as_json, text)


@index_app.command("drop")
def index_drop(
    yes: Annotated[bool, typer.Option("--yes", help="Really delete them.")] = False,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Delete the old index versions the alias no longer points at (after a migrate)."""
    from workers.search.elasticsearch.index import alias_target, drop_old, versions

    settings = settings_for(data_dir)
    with _client(settings) as client:
        if not yes:
            target = alias_target(client, settings.elasticsearch_index)
            old = [name for name in versions(client, settings.elasticsearch_index) if name != target]
            _print({"would_drop": old}, as_json, f"would delete: {', '.join(old) or 'nothing'} (add --yes)")
            return
        dropped = drop_old(client, settings.elasticsearch_index)
    _print({"dropped": dropped}, as_json, f"deleted: {', '.join(dropped) or 'nothing'}")


@kibana_app.command("import")
def kibana_import(
    url: Annotated[str, typer.Option("--url", help="Kibana's base URL, e.g. http://localhost:5601.")],
    api_key: Annotated[str | None, typer.Option(help="API key for Kibana (default: the setting).")] = None,
    user: Annotated[str | None, typer.Option(help="User for basic authentication (default: the setting).")] = None,
    password: Annotated[str | None, typer.Option(help="Password of --user (default: the setting).")] = None,
    space: Annotated[str | None, typer.Option(help="Kibana space to import into (default: the default one).")] = None,
    objects: Annotated[Path | None, typer.Option(help="NDJSON file (default: config/kibana/*.ndjson).")] = None,
    as_json: AsJson = False,
) -> None:
    """Load the data view, saved search and dashboard into Kibana through its saved-objects API."""
    from workers.search.elasticsearch.kibana import KibanaAuth, import_saved_objects

    settings = settings_for(None)
    auth = KibanaAuth(api_key=api_key or settings.elasticsearch_api_key,
                      username=user or settings.elasticsearch_username,
                      password=password or settings.elasticsearch_password)
    result = import_saved_objects(url, auth, alias=settings.elasticsearch_index, path=objects, space=space,
                                  ca_cert=settings.elasticsearch_ca_cert,
                                  timeout_s=settings.elasticsearch_request_timeout_s)
    _print(result, as_json, f"{result.get('successCount', 0)} saved objects imported into {escape(url)}")
