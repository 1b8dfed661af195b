"""Feed commands that need no worker: export the registry as OPML, discover a
site's feeds, check one feed now. ``check`` and ``discover`` touch no Redis
and enqueue nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from workers.cli.admin import _print_json, _runtime
from workers.cli.main import AsJson, DataDir, _settings, console, feeds_app
from workers.core.errors import FeedError
from workers.core.ids import canonical_url
from workers.core.models import Feed
from workers.state.registry import FeedState

__all__: list[str] = []


@feeds_app.command("export")
def feeds_export(
    path: Annotated[Path, typer.Argument(dir_okay=False, help="OPML file to write.")],
    data_dir: DataDir = None,
) -> None:
    """Write the registry as OPML, feeds nested in folders named by their collections."""
    from workers.pipeline.poll.feedlists import write_opml

    with _runtime(data_dir) as rt:
        feeds = rt.registry.all()
    path.write_bytes(write_opml(feeds))
    console.print(f"{len(feeds)} feeds written to {escape(str(path))}")


@feeds_app.command("discover")
def feeds_discover(site_url: str, as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Find a site's feeds (<link rel="alternate">, then common paths); each one found was fetched and parsed."""
    from workers.net.http import make_client
    from workers.pipeline.poll.discovery import discover_feeds

    settings = _settings(data_dir)
    _http_only(site_url)
    with make_client(settings, timeout_s=settings.feed_timeout_s) as client:
        found = discover_feeds(site_url, settings, client)
    if as_json:
        _print_json([{"url": f.url, "title": f.title, "items": f.items, "found_by": f.found_by} for f in found])
    else:
        for feed in found:
            console.print(f"{escape(feed.url)}  {escape(feed.title or '')}  [dim]{feed.items} items, "
                          f"{feed.found_by}[/]")
        console.print(f"[dim]{len(found)} feeds found[/]")
    if not found:
        raise typer.Exit(1)


@feeds_app.command("check")
def feeds_check(url: str, as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Fetch and parse one feed now, without enqueueing: status, items with canonical URLs, or the error."""
    from workers.net.http import make_client
    from workers.pipeline.poll.feed import poll_feed

    settings = _settings(data_dir)
    _http_only(url)
    report: dict[str, Any] = {"url": url}
    with make_client(settings, timeout_s=settings.feed_timeout_s) as client:
        try:
            result = poll_feed(Feed(url=url), FeedState(), settings, client)
        except FeedError as exc:
            report |= {"ok": False, "reason": exc.reason, "error": str(exc), "retry_after_s": exc.retry_after_s}
            result = None
    if result is not None:
        report |= {
            "ok": True, "status": result.status, "final_url": result.url, "title": result.title,
            "moved_permanently": result.permanent_redirect, "problem": result.problem,
            "etag": result.etag, "last_modified": result.last_modified,
            "items": [{"title": i.title, "url": i.url, "canonical_url": canonical_url(i.url), "doc_id": i.doc_id,
                       "guid": i.guid, "published_at": i.published_at} for i in result.items],
        }
    if as_json:
        _print_json(report)
    elif not report["ok"]:
        console.print(f"[red]{escape(report['reason'])}[/] {escape(report['error'])}")
    else:
        console.print(f"HTTP {report['status']}  {escape(report['title'] or '')}  {escape(report['final_url'])}")
        if report["moved_permanently"]:
            console.print("[yellow]moved permanently[/]: polling would store the new URL")
        if report["problem"]:
            console.print(f"[yellow]problem[/] {escape(report['problem'])}")
        for item in report["items"]:
            console.print(f"  {escape(item['canonical_url'])}  [dim]{escape(item['title'] or '')}[/]")
        console.print(f"[dim]{len(report['items'])} items[/]")
    if not report["ok"]:
        raise typer.Exit(1)


def _http_only(url: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise FeedError(f"feed URLs must be http(s): {url!r}", reason="feed.scheme")
