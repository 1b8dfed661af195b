"""Retention, takedown and backup commands: prune, delete, blocklist, backup, restore."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from workers.cli.options import AsJson, DataDir, attached, console, print_json, require_index, settings_for
from workers.core.errors import ConfigError
from workers.settings import Settings

if TYPE_CHECKING:  # the commands import their modules when they run, to keep `newsworkers --help` quick
    from workers.ops.takedown import DeletionReport
    from workers.pipeline.index.deletion import Selection

__all__: list[str] = []

commands = typer.Typer()

blocklist_app = typer.Typer(no_args_is_help=True, help="Takedown blocklist: URLs and domains never ingested again.")

Wait = Annotated[float | None, typer.Option(
    "--wait", help="Seconds to wait for a running index worker to apply it (default: deletion_wait_s).")]


def _report(report: DeletionReport, noun: str) -> None:
    if report.queued:
        console.print(f"{noun} sent to the index worker and not applied yet: it is queued and will be applied "
                      "when the worker takes it")
        return
    console.print(f"{report.deleted} documents {noun} ({report.where})")


@commands.command()
def prune(
    older_than: Annotated[str, typer.Option("--older-than", help="Age by published_at: 90d, 12h, 2w, 30m.")],
    domain: Annotated[str | None, typer.Option(help="Only this domain (and its subdomains).")] = None,
    archive: Annotated[bool, typer.Option("--archive", help="Also remove their archived pages (WARC).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; change nothing.")] = False,
    wait: Wait = None,
    data_dir: DataDir = None,
) -> None:
    """Remove documents published before an age (by published_at), with --archive their archived pages too."""
    from workers.archive import prune_archive
    from workers.ops.retention import cutoff, parse_age
    from workers.ops.takedown import execute
    from workers.pipeline.index.deletion import Selection

    settings = settings_for(data_dir)
    before = cutoff(parse_age(older_than))
    selection = Selection(domain=domain, before=before)
    where = f" of {escape(domain)}" if domain else ""
    if dry_run:
        console.print(f"{_would_go(settings, selection)} documents{where} published at or before "
                      f"{before.isoformat()} would be pruned (dry run)")
        return
    _report(execute(settings, selection, wait_s=settings.deletion_wait_s if wait is None else wait),
            f"pruned{where}, published at or before {before.isoformat()}:")
    if archive:
        removed = prune_archive(settings, before, domain)
        console.print(f"archive: {removed} WARC files pruned (a file goes when all its pages are past the age)")


def _would_go(settings: Settings, selection: Selection) -> int:
    from workers.pipeline.index.deletion import selected_ids
    from workers.search.backend import open_backend

    backend = open_backend(settings)
    try:
        return len(selected_ids(backend, selection))
    finally:
        backend.close()


@commands.command()
def delete(
    url: Annotated[str | None, typer.Option(help="The article's URL (every id version of it).")] = None,
    domain: Annotated[str | None, typer.Option(help="Every document of this domain and its subdomains.")] = None,
    block: Annotated[bool, typer.Option("--block", help="Never ingest it again (see `newsworkers blocklist`).")]
    = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would go; change nothing (no block "
                                                            "either).")] = False,
    as_json: AsJson = False,
    wait: Wait = None,
    data_dir: DataDir = None,
) -> None:
    """Remove documents at once (a takedown request); --block keeps them from being ingested again."""
    from workers.core.ids import id_candidates
    from workers.ops.takedown import execute
    from workers.pipeline.index.deletion import Selection
    from workers.state.blocklist import Blocklist, normalize_domain

    if (url is None) == (domain is None):
        raise ConfigError("give exactly one of --url or --domain", reason="config.usage")
    if url is not None and not url.startswith(("http://", "https://")):
        raise ConfigError(f"--url takes an http(s) URL, got {url!r}", reason="config.usage")
    settings = settings_for(data_dir)
    selection = (Selection(ids=[i for _v, i in id_candidates(url)], urls=[url]) if url is not None
                 else Selection(domain=normalize_domain(domain or "")))
    if dry_run:
        _show_would_go(require_index(settings), selection, block=block, as_json=as_json)
        return
    if block:  # first, so nothing of it is indexed again while the deletion runs
        with attached(data_dir) as rt:
            listed = Blocklist(rt.redis, rt.settings.namespace)
            if url is not None:
                listed.block_url(url)
            entry = url if url is not None else listed.block_domain(domain or "")
        console.print(f"blocked {escape(str(entry))}")
    _report(execute(settings, selection, wait_s=settings.deletion_wait_s if wait is None else wait), "deleted")


_SHOWN = 20


def _show_would_go(settings: Settings, selection: Selection, *, block: bool, as_json: bool) -> None:
    """What ``delete`` would remove: how many, and the newest of them with their URL and title."""
    from workers.pipeline.index.deletion import selected_ids
    from workers.search.backend import open_backend

    backend = open_backend(settings)
    try:
        ids = selected_ids(backend, selection)
        found = [backend.get(doc_id) for doc_id in ids]
    finally:
        backend.close()
    articles = sorted((a for a in found if a is not None), key=lambda a: a.published_at, reverse=True)
    if as_json:
        print_json({"dry_run": True, "would_delete": len(ids), "would_block": block,
                    "documents": [{"id": a.id, "url": a.url, "title": a.title,
                                   "published_at": a.published_at.isoformat()} for a in articles]})
        return
    for article in articles[:_SHOWN]:
        console.print(f"{article.published_at.date().isoformat()}  {escape(article.url)}  {escape(article.title)}")
    more = f" ({len(ids) - _SHOWN} more not listed; --json lists them all)" if len(ids) > _SHOWN else ""
    blocked = "; --block would also block it" if block else ""
    console.print(f"{len(ids)} documents would be deleted{more}{blocked} (dry run: nothing changed)")


@blocklist_app.command("list")
def blocklist_list(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """The blocked URLs and domains."""
    from workers.state.blocklist import Blocklist

    with attached(data_dir) as rt:
        entries = Blocklist(rt.redis, rt.settings.namespace).entries()
    if as_json:
        print_json(entries.to_json())
        return
    urls = sorted(set(entries.urls.values()))
    for domain in entries.domains:
        console.print(f"domain  {escape(domain)}")
    for url in urls:
        console.print(f"url     {escape(url)}")
    console.print(f"[dim]{len(entries.domains)} domains, {len(urls)} URLs[/]")


@blocklist_app.command("remove")
def blocklist_remove(entry: Annotated[str, typer.Argument(help="A blocked URL or domain.")],
                     data_dir: DataDir = None) -> None:
    """Unblock a URL or a domain (documents deleted stay deleted; the next poll may ingest them again)."""
    from workers.state.blocklist import Blocklist

    with attached(data_dir) as rt:
        removed = Blocklist(rt.redis, rt.settings.namespace).remove(entry)
    if not removed:
        raise ConfigError(f"not on the blocklist: {entry}", reason="config.not_blocked")
    console.print(f"unblocked {escape(entry)}")


@commands.command("backup")
def backup_command(
    target: Annotated[Path, typer.Argument(help="A new or empty folder outside the data directory.")],
    data_dir: DataDir = None,
) -> None:
    """Copy the embedded data directory (Redis state, index, archive) consistently, while `run` goes on."""
    from workers.ops.backup import backup

    manifest = backup(settings_for(data_dir), target)
    console.print(f"backed up {manifest.documents} documents, {manifest.feeds} feeds, {manifest.keys} Redis keys, "
                  f"{manifest.archive_files} archive files into {escape(str(target))}")


@commands.command("restore")
def restore_command(
    source: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="A folder `backup` wrote.")],
    force: Annotated[bool, typer.Option("--force", help="Replace an index and keys already there.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Restore a backup into a data directory no process owns."""
    from workers.ops.backup import restore

    manifest = restore(settings_for(data_dir), source, force=force)
    console.print(f"restored {manifest.documents} documents, {manifest.feeds} feeds, {manifest.keys} Redis keys "
                  f"(backup of {manifest.created_at})")
