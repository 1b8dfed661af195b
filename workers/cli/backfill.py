"""``newsworkers backfill warc|sitemap|urls``: load history, resumably, behind live news.

On embedded defaults the command starts the workers it needs and returns when the backfill is indexed;
when ``newsworkers run`` owns the data directory, or in a deployment (``REDIS_URL``), it enqueues for the
running workers and ``--wait`` follows it to the end (:mod:`workers.ops.oneshot`). The same command run
again continues where it stopped (:mod:`workers.backfill.checkpoint`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from workers.backfill.checkpoint import Checkpoint, backfill_id
from workers.backfill.enqueue import Sender, Tally
from workers.cli.options import AsJson, DataDir, console, settings_for
from workers.core.dates import parse_iso
from workers.core.errors import ConfigError
from workers.ops.oneshot import Job, run_oneshot

__all__: list[str] = []

backfill_app = typer.Typer(no_args_is_help=True, help="Load history (WARC/ARC files, sitemaps, URL lists) behind "
                                                      "live news; resumable.")

Since = Annotated[str | None, typer.Option(help="Only pages published (WARC: captured) on or after this ISO date.")]
Until = Annotated[str | None, typer.Option(help="Only pages captured on or before this ISO date.")]
Wait = Annotated[bool, typer.Option("--wait", help="When workers run elsewhere: follow the backfill until it is "
                                                   "indexed (on embedded defaults it always is).")]
Restart = Annotated[bool, typer.Option("--restart", help="Forget this backfill's saved position and start over.")]
Timeout = Annotated[float | None, typer.Option(help="Give up following after this many seconds (default: no "
                                                   "bound, a backfill of many files is long).")]

Work = Callable[[Sender, Checkpoint], None]


@backfill_app.command("warc")
def backfill_warc_command(
    paths: Annotated[list[str], typer.Argument(help="WARC/ARC files or glob patterns (gzip or not).")],
    domain: Annotated[list[str] | None, typer.Option("--domain", help="Only this domain (and its subdomains); "
                                                                      "repeat for more.")] = None,
    since: Since = None, until: Until = None, wait: Wait = False, restart: Restart = False, timeout: Timeout = None,
    as_json: AsJson = False, data_dir: DataDir = None,
) -> None:
    """Index the HTML pages of WARC/ARC files (CC-NEWS and the like), read in place through pointers."""
    from workers.backfill.warc import WarcFilters, backfill_warc, expand_paths

    settings = settings_for(data_dir)
    files = expand_paths(paths)
    domains = tuple(sorted({d.lower().strip().removeprefix("www.") for d in domain or [] if d.strip()}))
    filters = WarcFilters(domains=domains, since=_date(since, "--since"), until=_date(until, "--until"),
                          max_bytes=settings.fetch_max_bytes)
    # Patterns as typed (made absolute), not the files they match today: the same command is the same backfill.
    arguments = {"paths": sorted(str(Path(p).absolute()) for p in paths), "domains": list(domains),
                 "since": since, "until": until}
    _run("warc", arguments, lambda s, c: backfill_warc(s, c, files, filters, every=settings.backfill_checkpoint_every),
         wait=wait, restart=restart, timeout=timeout, as_json=as_json, data_dir=data_dir)


@backfill_app.command("sitemap")
def backfill_sitemap_command(
    url: Annotated[str, typer.Argument(help="A news sitemap, sitemap or sitemap index (gzip or not).")],
    since: Since = None, wait: Wait = False, restart: Restart = False, timeout: Timeout = None,
    as_json: AsJson = False, data_dir: DataDir = None,
) -> None:
    """Fetch and index the articles a sitemap lists (each sitemap of an index), newer than --since."""
    from workers.backfill.sitemap import backfill_sitemap

    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"sitemap URLs must be http(s): {url!r}")
    settings = settings_for(data_dir)
    when = _date(since, "--since")
    _run("sitemap", {"url": url, "since": since},
         lambda s, c: backfill_sitemap(s, c, url, since=when, every=settings.backfill_checkpoint_every),
         wait=wait, restart=restart, timeout=timeout, as_json=as_json, data_dir=data_dir)


@backfill_app.command("urls")
def backfill_urls_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A text file of URLs, one a line.")],
    wait: Wait = False, restart: Restart = False, timeout: Timeout = None, as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Fetch and index every URL of a file."""
    from workers.backfill.urls import backfill_urls

    settings = settings_for(data_dir)
    path = file.resolve()
    _run("urls", {"file": str(path)},
         lambda s, c: backfill_urls(s, c, path, every=settings.backfill_checkpoint_every),
         wait=wait, restart=restart, timeout=timeout, as_json=as_json, data_dir=data_dir)


def _run(source: str, arguments: dict[str, Any], work: Work, *, wait: bool, restart: bool, timeout: float | None,
         as_json: bool, data_dir: Path | None) -> None:
    settings = settings_for(data_dir)
    backfill = backfill_id(source, arguments)
    tally = Tally()

    def enqueue(job: Job) -> bool:
        checkpoint = Checkpoint(job.runtime.redis, job.runtime.keys, backfill)
        checkpoint.start(arguments, restart=restart)
        work(Sender(job, backfill, tally), checkpoint)
        if job.stopping:
            return False
        checkpoint.finish()
        return True

    # With --json the live progress goes to stderr, so stdout is the summary alone.
    shown = Console(stderr=True) if as_json else console
    shown.print(f"backfill {backfill}")
    result = run_oneshot(settings, enqueue, wait=wait, console=shown, timeout_s=timeout, status=tally.line)
    read_all = result.value is True
    summary = {"backfill": backfill, "source": source, "mode": result.mode, **tally.as_dict(),
               "read_all": read_all, "finished": result.finished, "indexed": result.indexed,
               "pipeline_failed": result.reasons, "elapsed_s": round(result.elapsed_s, 2),
               "articles_per_s": round(result.indexed / result.elapsed_s, 2) if result.elapsed_s > 0 else 0.0,
               "worker_deaths": result.worker_deaths}
    if as_json:
        sys.stdout.write(json.dumps(summary, default=str) + "\n")
    else:
        _print_summary(summary)
    raise typer.Exit(0 if read_all and not result.interrupted and not result.worker_deaths else 1)


def _print_summary(summary: dict[str, Any]) -> None:
    skipped = ", ".join(f"{k} {v}" for k, v in summary["skipped"].items()) or "none"
    resumed = f" (after {summary['resumed_after']} read by earlier runs)" if summary["resumed_after"] else ""
    console.print(f"\n[bold]backfill {summary['backfill']}[/]: read {summary['records_read']}{resumed}, queued "
                  f"{summary['queued']}, skipped: {escape(skipped)}; failed {sum(summary['failed'].values())}")
    for error in summary["errors"]:
        console.print(f"  [red]failed[/] {escape(error)}")
    if summary["mode"] == "own" or summary["finished"]:
        console.print(f"{summary['indexed']} articles indexed in {summary['elapsed_s']}s "
                      f"({summary['articles_per_s']}/s)")
        for reason, count in summary["pipeline_failed"].items():
            console.print(f"  [red]{count} failed[/] in the pipeline: {escape(reason)} (see `newsworkers failed list`)")
    else:
        console.print("queued for the running workers; `--wait` follows it to the end")
    if not summary["read_all"]:
        console.print("[yellow]stopped before the end[/]: run the same command again to continue")


def _date(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    try:
        return parse_iso(value)
    except ValueError as exc:
        raise ConfigError(f"{option} takes an ISO date or time (2024-05-01), got {value!r}") from exc
