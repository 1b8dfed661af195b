"""``newsworkers status``: queues, workers, index, feeds, failures and the ingest rate, as a table or JSON.

The JSON keys are described in :mod:`workers.ops.status` and the README; they are kept stable.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from workers.cli.options import AsJson, DataDir, console, err, print_json, require_state, settings_for

__all__: list[str] = []

commands = typer.Typer()


@commands.command()
def status(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Queue depths and in-flight messages, workers alive, index size, feeds, failures, ingest rate."""
    from workers.core.errors import ConfigError
    from workers.ops.status import collect_status
    from workers.runtime import Runtime
    from workers.state.ownership import redis_for_command
    from workers.worker.app import create_app

    settings = require_state(settings_for(data_dir))
    with redis_for_command(settings) as url:
        celery = create_app(settings.model_copy(update={"redis_url": url}))
        runtime: Runtime = celery.runtime  # type: ignore[attr-defined]
        try:
            try:
                runtime.check_redis()
                redis_error = None
            except ConfigError as exc:  # Redis away: report the index and say so, rather than nothing
                redis_error = str(exc)
            data = collect_status(celery, runtime, redis_error=redis_error)
        finally:
            runtime.close()
    if as_json:
        print_json(data)
    else:
        _print_table(data)
    if data["errors"]:
        raise typer.Exit(1)


def _shown(value: Any) -> str:
    return "?" if value is None else str(value)


def _print_table(data: dict[str, Any]) -> None:
    counters, failures = data["counters"] or {}, data["failures"] or {"last_hour": {}}
    table = Table(title="newsworkers status")
    for column in ("queue", "waiting", "in flight", "workers", "done", "failed (1h)"):
        table.add_column(column, justify="left" if column == "queue" else "right")
    for queue, q in data["queues"].items():
        workers = f"[red]{q['workers']}[/]" if q["workers"] == 0 else _shown(q["workers"])
        known = data["counters"] is not None
        table.add_row(queue, _shown(q["depth"]), _shown(q["inflight"]), workers,
                      str(counters.get(f"{queue}.ok", 0)) if known else "?",
                      str(failures["last_hour"].get(queue, 0)) if known else "?")
    console.print(table)
    index = data["index"]
    documents = index["documents"] if index["documents"] is not None else "[red]unreadable[/]"
    for part, message in data["errors"].items():
        err.print(f"[red]{part} unreadable:[/] {escape(message)}")
    if data["feeds"] is None:
        console.print(f"index: {documents} documents; feeds, failures and rates unknown (Redis unreadable)")
        return
    feeds, rate = data["feeds"], data["rate"]
    console.print(f"index: {documents} documents; feeds: {feeds['registered']} registered, {feeds['due']} due, "
                  f"{feeds['failing']} failing; items in flight {data['items']['in_flight']}")
    console.print(f"ingest rate: {rate['articles_per_min']} articles/min over the last {rate['window_min']} min")
    pressure = data["backpressure"]
    if pressure["held"]:
        console.print(f"[yellow]polling held by back-pressure[/]: fetch+extract backlog {pressure['backlog']} "
                      f"(resumes at {pressure['low_water']} or fewer)")
    console.print(f"dead letters: {failures['dead_letters']} (dropped when full: {failures['dropped']})")
    for reason, count in sorted(failures["dead_letters_by_reason"].items(), key=lambda kv: -kv[1]):
        console.print(f"  [red]{count}[/] {escape(reason)}")
