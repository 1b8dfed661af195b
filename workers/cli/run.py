"""``newsworkers run`` (everything on this machine), and ``worker`` and ``scheduler`` for deployments."""

from __future__ import annotations

import contextlib
import os
import time
from typing import Annotated

import typer
from rich.markup import escape

from workers.cli.options import DataDir, console, settings_for
from workers.core.errors import ConfigError
from workers.worker.pools import KINDS, worker_argv, worker_spec

__all__: list[str] = []

commands = typer.Typer()


@commands.command()
def run(
    data_dir: DataDir = None,
    once: Annotated[bool, typer.Option("--once", help="Poll every feed once, drain all queues, exit.")] = False,
    timeout: Annotated[float | None, typer.Option(help="With --once: give up after this many seconds (default "
                                                       "oneshot_timeout_s, 3600).")] = None,
) -> None:
    """Start broker (if embedded), workers and scheduler, and ingest until Ctrl-C."""
    from workers.core.logs import redact_secrets
    from workers.ops.runner import run as run_pipeline
    from workers.worker.metrics_export import serve_run_metrics

    settings = settings_for(data_dir)
    if serve_run_metrics(settings) is not None:
        console.print(f"metrics on http://{settings.metrics_addr}:{settings.metrics_port}/metrics")
    bound = timeout or settings.oneshot_timeout_s
    summary = run_pipeline(settings, once=once, timeout_s=bound if once else None, console=console)
    console.print(
        f"\n[bold]{summary.indexed}[/] articles indexed ({summary.from_feed} from feed fields) in "
        f"{summary.elapsed_s:.1f}s, {summary.articles_per_s:.2f} articles/s; feeds ok {summary.feeds_ok}, "
        f"failed {len(summary.feeds_failed)}"
    )
    for url, (reason, error) in summary.feeds_failed.items():
        console.print(redact_secrets(f"  [red]feed failed[/] {escape(url)}: {escape(reason)}: {escape(error)}"))
    for letter in summary.failed:
        console.print(redact_secrets(f"  [red]{letter['stage']} failed[/] {escape(letter['url'])}: "
                                     f"{escape(letter['reason'])}"))
    if not summary.drained:
        console.print("[red]work was left unprocessed[/] (timeout or interrupted); it stays queued for the next run")
    if summary.worker_deaths:
        console.print(f"[red]{summary.worker_deaths} worker process(es) died[/]; see {settings.data_dir / 'logs'}")
    raise typer.Exit(summary.exit_code if once else 0)


@commands.command()
def worker(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(KINDS)}, io, backfill.")],
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
) -> None:
    """Run one worker kind in the foreground (deployments: one container per kind). Needs REDIS_URL."""
    settings = settings_for(None)
    if not settings.redis_url:
        raise ConfigError("`newsworkers worker` needs REDIS_URL (the embedded Redis belongs to `newsworkers run`)")
    argv = worker_argv(worker_spec(kind, settings), loglevel=loglevel)
    os.execvpe(argv[0], argv, {**os.environ, **settings.as_environment()})


@commands.command()
def scheduler(interval_s: Annotated[float, typer.Option(help="Seconds between two looks.")] = 1.0) -> None:
    """Run the scheduler alone: enqueue due feeds from the registry. Needs REDIS_URL."""
    from workers.ops.scheduler import Scheduler
    from workers.worker.app import create_app

    settings = settings_for(None)
    celery = create_app(settings)
    ticker = Scheduler(celery, celery.runtime)  # type: ignore[attr-defined]
    console.print(f"scheduling {ticker.runtime.registry.count()} feeds")
    from workers.broker.delayed import send_due

    delayed = ticker.runtime.delayed
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            ticker.tick()
            send_due(celery, delayed)  # retries held back until due (workers/broker/delayed.py)
            time.sleep(interval_s)
