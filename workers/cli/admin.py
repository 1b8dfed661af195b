"""Operator commands: the feed registry, dead letters, status, and single
worker kinds for deployments. They attach to the running owner's Redis, or
start the embedded one briefly (see :mod:`workers.state.ownership`)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from workers.cli.main import AsJson, DataDir, _settings, app, console, feeds_app
from workers.core.errors import ConfigError, FeedError
from workers.core.models import Feed
from workers.runtime import Runtime
from workers.state.ownership import attached_runtime
from workers.worker.pools import KINDS, worker_argv, worker_spec

__all__: list[str] = []


@contextlib.contextmanager
def _runtime(data_dir: Path | None) -> Iterator[Runtime]:
    with attached_runtime(_settings(data_dir)) as runtime:
        yield runtime


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


def _when(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M") if epoch else "never"


@feeds_app.command("add")
def feeds_add(
    url: str,
    title: Annotated[str | None, typer.Option(help="Display name of the source.")] = None,
    collection: Annotated[list[str] | None, typer.Option(
        "--collection", "-c", help="A collection (facet) for every article of the feed; repeat for more.",
    )] = None,
    data_dir: DataDir = None,
) -> None:
    """Register one feed (again: add collections, poll a gone feed again)."""
    if not url.startswith(("http://", "https://")):
        raise FeedError(f"feed URLs must be http(s): {url!r}", reason="feed.scheme")
    collections = list(dict.fromkeys(c.strip() for c in collection or [] if c.strip()))
    with _runtime(data_dir) as rt:
        created = rt.registry.add(Feed(url=url, title=title, source_name=title, collections=collections))
    console.print(f"{'added' if created else 'updated'} {escape(url)}")


@feeds_app.command("import")
def feeds_import(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="OPML or YAML feed list.")],
    data_dir: DataDir = None,
) -> None:
    """Register every feed of an OPML or YAML file."""
    from workers.pipeline.poll.feedlists import read_feed_list

    feeds = read_feed_list(path)
    with _runtime(data_dir) as rt:
        created = sum(rt.registry.add(feed) for feed in feeds)
    console.print(f"{len(feeds)} feeds read, {created} new")


@feeds_app.command("remove")
def feeds_remove(url: str, data_dir: DataDir = None) -> None:
    """Stop polling a feed and forget its state."""
    with _runtime(data_dir) as rt:
        if not rt.registry.remove(url):
            raise FeedError(f"no such feed in the registry: {url}", reason="feed.unknown")
    console.print(f"removed {escape(url)}")


@feeds_app.command("list")
def feeds_list(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """The registered feeds."""
    with _runtime(data_dir) as rt:
        feeds = rt.registry.all()
    if as_json:
        _print_json([f.model_dump(mode="json") for f in feeds])
        return
    for feed in feeds:
        tags = f"  [dim]{escape(', '.join(feed.collections))}[/]" if feed.collections else ""
        console.print(f"{escape(feed.url)}  {escape(feed.title or '')}{tags}")
    console.print(f"[dim]{len(feeds)} feeds[/]")


@feeds_app.command("status")
def feeds_status(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Each feed's last poll, HTTP status, items seen, error streak and reason, next poll; failing feeds first."""
    with _runtime(data_dir) as rt:
        rows = []
        for feed in rt.registry.all():
            state = rt.registry.state(feed.url)
            rows.append({"url": feed.url, "title": state.title or feed.title, "collections": feed.collections,
                         "last_polled_at": state.last_polled_at, "last_ok_at": state.last_ok_at,
                         "last_status": state.last_status, "error_streak": state.error_streak,
                         "last_reason": state.last_reason, "last_error": state.last_error,
                         "items_total": state.items_total, "interval_s": state.interval_s, "gone": state.gone,
                         "next_poll_at": rt.registry.next_poll_at(feed.url)})
    rows.sort(key=lambda r: (-r["error_streak"], r["url"]))
    if as_json:
        _print_json(rows)
        return
    table = Table(title="feeds")
    for column in ("feed", "last poll", "HTTP", "items", "errors", "reason", "next poll"):
        table.add_column(column)
    for r in rows:
        next_poll = "never (410 Gone)" if r["gone"] else _when(r["next_poll_at"])
        table.add_row(escape(r["title"] or r["url"]), _when(r["last_polled_at"]), str(r["last_status"] or ""),
                      str(r["items_total"]), f"[red]{r['error_streak']}[/]" if r["error_streak"] else "0",
                      escape(r["last_reason"] or (f"problem: {r['last_error'][:60]}" if r["last_error"] else "")),
                      next_poll)
    console.print(table)


@app.command()
def worker(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(KINDS)}, io, backfill.")],
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
) -> None:
    """Run one worker kind in the foreground (deployments: one container per kind). Needs REDIS_URL."""
    settings = _settings(None)
    if not settings.redis_url:
        raise ConfigError("`newsworkers worker` needs REDIS_URL (the embedded Redis belongs to `newsworkers run`)")
    argv = worker_argv(worker_spec(kind, settings), loglevel=loglevel)
    os.execvpe(argv[0], argv, {**os.environ, **settings.as_environment()})


@app.command()
def scheduler(interval_s: Annotated[float, typer.Option(help="Seconds between two looks.")] = 1.0) -> None:
    """Run the scheduler alone: enqueue due feeds from the registry. Needs REDIS_URL."""
    from workers.ops.scheduler import Scheduler
    from workers.worker.app import create_app

    settings = _settings(None)
    celery = create_app(settings)
    ticker = Scheduler(celery, celery.runtime)  # type: ignore[attr-defined]
    console.print(f"scheduling {ticker.runtime.registry.count()} feeds")
    from workers.broker.delayed import send_due
    from workers.worker.retries import delayed_messages

    delayed = delayed_messages(ticker.runtime)
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            ticker.tick()
            send_due(celery, delayed)  # retries held back until due (workers/broker/delayed.py)
            time.sleep(interval_s)


# Feed export/discover/check (which use the helpers above), dead letters and status live in modules of their
# own; importing them registers them.
from workers.cli import failed as cli_failed  # noqa: E402, F401
