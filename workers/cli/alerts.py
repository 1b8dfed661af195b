"""``newsworkers alerts ...``: saved searches, their Atom feeds and webhooks (see workers/alerts/)."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from workers.alerts.service import Alerts, UnknownAlert
from workers.alerts.store import AlertStore
from workers.api.routes_alerts import feed_path, redacted_webhook
from workers.cli.options import AsJson, DataDir, console, require_state, settings_for
from workers.core.errors import QuerySyntaxError
from workers.runtime import Runtime
from workers.search.backend import SearchBackend, open_backend
from workers.state.ownership import redis_for_command

__all__ = ["open_alerts"]

alerts_app = typer.Typer(no_args_is_help=True, help="Saved searches: an Atom feed each, and optional webhooks.")


@contextlib.contextmanager
def open_alerts(data_dir: Path | None) -> Iterator[Alerts]:
    settings = require_state(settings_for(data_dir))
    with redis_for_command(settings) as url:
        runtime = Runtime(settings.model_copy(update={"redis_url": url}))
        backend: list[SearchBackend] = []

        def reader() -> SearchBackend:
            if not backend:
                backend.append(open_backend(runtime.settings))
            return backend[0]

        try:
            runtime.check_redis()
            store = AlertStore(runtime.redis, runtime.keys, matches_max=settings.alert_matches_max)
            yield Alerts(store, runtime.settings, reader)
        finally:
            for opened in backend:
                opened.close()
            runtime.close()


@alerts_app.command("add")
def alerts_add(
    name: Annotated[str, typer.Argument(help="Letters, digits, '-' or '_'; the feed is /feeds/NAME.atom.")],
    query: Annotated[str, typer.Argument(help='Words, "phrases", AND/OR/NOT, +/-, field:value.')],
    filter_: Annotated[list[str] | None, typer.Option("--filter", help="FACET=VALUE; repeat to OR.")] = None,
    webhook: Annotated[str | None, typer.Option(help="POST each new match here as JSON.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Save a search; it starts with the matching articles already indexed."""
    filters: dict[str, list[str]] = {}
    for spec in filter_ or []:
        facet, sep, value = spec.partition("=")
        if not sep:
            raise QuerySyntaxError(f"--filter takes FACET=VALUE, got {spec!r}")
        filters.setdefault(facet.strip(), []).append(value.strip())
    with open_alerts(data_dir) as alerts:
        saved, matches = alerts.add(name, query, filters, webhook)
    console.print(f"saved [bold]{escape(saved.name)}[/]: {matches} matching articles so far; "
                  f"feed at {feed_path(saved.name)}" + (" and webhook" if saved.webhook else ""))


@alerts_app.command("list")
def alerts_list(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """The saved searches, with their match counts."""
    with open_alerts(data_dir) as alerts:
        rows = [(s, alerts.store.match_count(s.name)) for s in alerts.store.all()]
    if as_json:
        out = [{**s.to_json(), "webhook": redacted_webhook(s.webhook), "feed_url": feed_path(s.name),
                "matches": n} for s, n in rows]
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"{len(rows)} saved searches")
    for column in ("name", "query", "filters", "webhook", "matches"):
        table.add_column(column)
    for saved, count in rows:
        filters = "; ".join(f"{k}={'|'.join(v)}" for k, v in saved.filters.items())
        table.add_row(escape(saved.name), escape(saved.query), escape(filters),
                      escape(redacted_webhook(saved.webhook) or ""), str(count))
    console.print(table)


@alerts_app.command("show")
def alerts_show(
    name: str,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Newest matches shown.")] = 20,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """One saved search and its newest matches."""
    with open_alerts(data_dir) as alerts:
        saved = alerts.store.get(name)
        if saved is None:
            raise UnknownAlert(f"no saved search named {name!r}")
        entries = alerts.store.matches(name, limit=limit)
        total = alerts.store.match_count(name)
    if as_json:
        sys.stdout.write(json.dumps({**saved.to_json(), "webhook": redacted_webhook(saved.webhook),
                                     "feed_url": feed_path(name), "matches": total,
                                     "recent": [e.to_json() for e in entries]}, ensure_ascii=False) + "\n")
        return
    console.print(f"[bold]{escape(saved.name)}[/]: {escape(saved.query)} — {total} matches, feed {feed_path(name)}")
    for entry in entries:
        console.print(f"  {entry.published_at[:10]}  {escape(entry.source)}  {escape(entry.title)}")


@alerts_app.command("remove")
def alerts_remove(name: str, data_dir: DataDir = None) -> None:
    """Forget a saved search and its matches."""
    with open_alerts(data_dir) as alerts:
        alerts.remove(name)
    console.print(f"removed [bold]{escape(name)}[/]")
