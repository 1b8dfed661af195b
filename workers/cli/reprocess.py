"""``newsworkers reprocess``: extract and index chosen articles again, from the page archive.

Three ways it runs, like ``run --once`` and ``backfill`` (through :mod:`workers.ops.oneshot`):

- embedded defaults, no ``run`` going: it owns the data directory for a while, starts the embedded
  Redis and the workers, and returns when every chosen article is indexed again (or failed);
- embedded, a ``run`` going: it sends the pages to that run's workers; ``--wait`` follows them;
- a deployment (``REDIS_URL``): it sends the pages to the running workers; ``--wait`` follows them.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated

import typer
from rich.markup import escape

from workers.archive.write import archive_root
from workers.cli.options import AsJson, DataDir, console, settings_for
from workers.ops.oneshot import Job, run_oneshot
from workers.ops.reprocess import ReprocessSummary, Selection, plan, send, settle
from workers.search.backend import open_backend
from workers.search.request import parse_date
from workers.settings import Settings
from workers.state.ownership import DataDirLock

__all__: list[str] = []

commands = typer.Typer()


@commands.command()
def reprocess(
    since: Annotated[str | None, typer.Option(help="Articles published on or after (ISO date or time).")] = None,
    until: Annotated[str | None, typer.Option(help="Articles published on or before (ISO date or time).")] = None,
    domain: Annotated[str | None, typer.Option(help="Only articles of this domain.")] = None,
    query: Annotated[str, typer.Option(help="Only articles matching this search query.")] = "",
    only_older_version: Annotated[bool, typer.Option(
        "--only-older-version", help="Only articles an older pipeline version extracted.")] = False,
    wait: Annotated[bool, typer.Option(
        "--wait", help="Follow to the end when sending to running workers (always, when it starts its own).",
    )] = False,
    timeout: Annotated[float | None, typer.Option(help="Give up following after this many seconds (default "
                                                       "oneshot_timeout_s, 3600).")] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Extract and index archived pages again (no network); documents are updated in place."""
    selection = Selection(since=parse_date(since, "--since"), until=parse_date(until, "--until", end=True),
                          domain=domain, query=query, only_older_version=only_older_version)
    settings = settings_for(data_dir)
    summary = run_reprocess(settings, selection, wait=wait, timeout_s=timeout or settings.oneshot_timeout_s)
    if as_json:
        sys.stdout.write(json.dumps(summary.to_json()) + "\n")
    else:
        console.print(
            f"reprocess: {summary.chosen} chosen, {summary.queued} queued, {summary.skipped_no_archive} skipped "
            f"(no archived page), {summary.skipped_current} skipped (current version), {summary.reindexed} "
            f"reindexed, {sum(summary.failed.values())} failed, {summary.pending} pending")
        for reason, count in summary.failed.most_common():
            console.print(f"  [red]failed[/] {escape(reason)}: {count}")
    raise typer.Exit(1 if summary.failed or (summary.pending and summary.followed) else 0)


def run_reprocess(settings: Settings, selection: Selection, *, wait: bool, timeout_s: float) -> ReprocessSummary:
    summary = ReprocessSummary()
    root = archive_root(settings)
    backend = open_backend(settings)
    try:
        with console.status("reprocess: choosing articles"):
            ids = plan(backend, selection, root, summary)
    finally:
        backend.close()
    if not ids:
        return summary
    # With workers of its own the command always follows the work; sent to running workers, only with --wait.
    follow = summary.followed = wait or _would_own(settings)

    def enqueue(job: Job) -> None:
        started = time.time()
        reader = open_backend(settings)
        try:
            sent = send(job.runtime, job.app, reader, ids, root, summary, stopping=lambda: job.stopping,
                        track=job.track)
        finally:
            reader.close()
        pending = sent
        while follow and pending and not job.stopping:
            pending = settle(job.runtime, pending, started, summary)
            time.sleep(0.3)

    def status() -> str:
        return (f"reprocess: {summary.queued} of {len(ids)} queued, {summary.reindexed} reindexed, "
                f"{sum(summary.failed.values())} failed")

    run_oneshot(settings, enqueue, wait=wait, console=console, timeout_s=timeout_s, status=status)
    return summary


def _would_own(settings: Settings) -> bool:
    """Whether run_oneshot will start workers of its own (embedded, and no `run` holds the data directory)."""
    if settings.redis_url:
        return False
    lock = DataDirLock(settings.data_dir)
    if not lock.acquire():
        return False
    lock.release()
    return True
