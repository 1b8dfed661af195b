"""``newsworkers feeds ...``: the feed registry (add, import, list, remove, status, export as OPML), and two
commands that touch no Redis and enqueue nothing: ``discover`` a site's feeds and ``check`` one feed now."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from workers.cli.options import AsJson, DataDir, attached, console, print_json, settings_for, when
from workers.core.errors import FeedError
from workers.core.ids import canonical_url
from workers.core.models import Feed
from workers.state.registry import FeedState

__all__ = ["feeds_app"]

feeds_app = typer.Typer(no_args_is_help=True, help="The feed registry: add, import, list, remove, status.")


@feeds_app.command("add")
def feeds_add(
    url: str,
    title: Annotated[str | None, typer.Option(help="Display name of the source.")] = None,
    collection: Annotated[list[str] | None, typer.Option(
        "--collection", "-c", help="A collection (facet) for every article of the feed; repeat for more.",
    )] = None,
    no_check: Annotated[bool, typer.Option("--no-check", help="Add it without fetching it first (a feed that is "
                                                              "down now, or not yet published).")] = False,
    data_dir: DataDir = None,
) -> None:
    """Register one feed, once it was fetched and parsed as one (again: add collections, poll a gone feed
    again)."""
    if not url.startswith(("http://", "https://")):
        raise FeedError(f"feed URLs must be http(s): {url!r}", reason="feed.scheme")
    collections = list(dict.fromkeys(c.strip() for c in collection or [] if c.strip()))
    with attached(data_dir) as rt:
        if not no_check and rt.registry.get(url) is None:
            _check_is_a_feed(url, rt.settings)
        created = rt.registry.add(Feed(url=url, title=title, source_name=title, collections=collections))
    console.print(f"{'added' if created else 'updated'} {escape(url)}")


def _check_is_a_feed(url: str, settings: Any) -> None:
    """Fetch and parse ``url`` as ``feeds check`` does; raise, adding nothing, when it is no feed now."""
    from workers.net.http import make_client
    from workers.pipeline.poll.feed import poll_feed

    with make_client(settings, timeout_s=settings.feed_timeout_s) as client:
        try:
            poll_feed(Feed(url=url), FeedState(), settings, client)
        except FeedError as exc:
            raise FeedError(f"not added: {exc.args[0]}; check the URL (`newsworkers feeds discover SITE` finds a "
                            "site's feeds), or pass --no-check to add it anyway", reason=exc.reason, url=url) from exc


@feeds_app.command("import")
def feeds_import(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="OPML or YAML feed list.")],
    data_dir: DataDir = None,
) -> None:
    """Register every feed of an OPML or YAML file."""
    from workers.pipeline.poll.feedlists import read_feed_list

    feeds = read_feed_list(path)
    with attached(data_dir) as rt:
        created = sum(rt.registry.add(feed) for feed in feeds)
    console.print(f"{len(feeds)} feeds read, {created} new")


@feeds_app.command("remove")
def feeds_remove(url: str, data_dir: DataDir = None) -> None:
    """Stop polling a feed and forget its state."""
    with attached(data_dir) as rt:
        if not rt.registry.remove(url):
            raise FeedError(f"no such feed in the registry: {url}", reason="feed.unknown")
    console.print(f"removed {escape(url)}")


@feeds_app.command("upgrade-memory")
def feeds_upgrade_memory(data_dir: DataDir = None) -> None:
    """Move the entry memory of versions before the per-feed hashes (GUID aliases, revisions) into them.

    Once, after upgrading; running it again does nothing. Until it has run, polls treat the entries of
    before as forgotten: nothing is fetched twice, but a correction or a GUID alias may go unnoticed.
    """
    from workers.state.entries import upgrade_entry_memory

    with attached(data_dir) as rt:
        moved = upgrade_entry_memory(rt.raw_redis, rt.keys)
    console.print(f"{moved} entries moved into their feeds' memory")


@feeds_app.command("list")
def feeds_list(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """The registered feeds."""
    with attached(data_dir) as rt:
        feeds = rt.registry.all()
    if as_json:
        print_json([f.model_dump(mode="json") for f in feeds])
        return
    for feed in feeds:
        tags = f"  [dim]{escape(', '.join(feed.collections))}[/]" if feed.collections else ""
        console.print(f"{escape(feed.url)}  {escape(feed.title or '')}{tags}")
    console.print(f"[dim]{len(feeds)} feeds[/]")


@feeds_app.command("status")
def feeds_status(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Each feed's last poll, HTTP status, items seen, error streak and reason, next poll; failing feeds first."""
    with attached(data_dir) as rt:
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
        print_json(rows)
        return
    table = Table(title="feeds")
    for column in ("feed", "last poll", "HTTP", "items", "errors", "reason", "next poll"):
        table.add_column(column)
    for r in rows:
        next_poll = "never (410 Gone)" if r["gone"] else when(r["next_poll_at"])
        table.add_row(escape(r["title"] or r["url"]), when(r["last_polled_at"]), str(r["last_status"] or ""),
                      str(r["items_total"]), f"[red]{r['error_streak']}[/]" if r["error_streak"] else "0",
                      escape(r["last_reason"] or (f"problem: {r['last_error'][:60]}" if r["last_error"] else "")),
                      next_poll)
    console.print(table)


@feeds_app.command("export")
def feeds_export(
    path: Annotated[Path, typer.Argument(dir_okay=False, help="OPML file to write.")],
    data_dir: DataDir = None,
) -> None:
    """Write the registry as OPML, feeds nested in folders named by their collections."""
    from workers.pipeline.poll.feedlists import write_opml

    with attached(data_dir) as rt:
        feeds = rt.registry.all()
    path.write_bytes(write_opml(feeds))
    console.print(f"{len(feeds)} feeds written to {escape(str(path))}")


@feeds_app.command("discover")
def feeds_discover(site_url: str, as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Find a site's feeds (<link rel="alternate">, then common paths); each one found was fetched and parsed."""
    from workers.net.http import make_client
    from workers.pipeline.poll.discovery import discover_feeds

    settings = settings_for(data_dir)
    _http_only(site_url)
    with make_client(settings, timeout_s=settings.feed_timeout_s) as client:
        found = discover_feeds(site_url, settings, client)
    if as_json:
        print_json([{"url": f.url, "title": f.title, "items": f.items, "found_by": f.found_by} for f in found])
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

    settings = settings_for(data_dir)
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
        print_json(report)
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
