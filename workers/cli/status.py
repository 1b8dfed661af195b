"""``newsworkers status``: queues, workers, index, feeds, failures and the ingest rate, as a table or JSON.

The JSON keys are described in :mod:`workers.ops.status` and the README; they are kept stable.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from workers.cli.options import AsJson, DataDir, attached, console, print_json

__all__: list[str] = []

commands = typer.Typer()


@commands.command()
def status(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Queue depths and in-flight messages, workers alive, index size, feeds, failures, ingest rate."""
    from workers.ops.status import collect_status
    from workers.worker.app import create_app

    with attached(data_dir) as rt:
        celery = create_app(rt.settings)
        try:
            data = collect_status(celery, celery.runtime)  # type: ignore[attr-defined]
        finally:
            celery.runtime.close()  # type: ignore[attr-defined]
    if as_json:
        print_json(data)
        return
    _print_table(data)


def _print_table(data: dict[str, Any]) -> None:
    counters, failures = data["counters"], data["failures"]
    table = Table(title="newsworkers status")
    for column in ("queue", "waiting", "in flight", "workers", "done", "failed (1h)"):
        table.add_column(column, justify="left" if column == "queue" else "right")
    for queue, q in data["queues"].items():
        workers = f"[red]{q['workers']}[/]" if q["workers"] == 0 else str(q["workers"])
        table.add_row(queue, str(q["depth"]), str(q["inflight"]), workers, str(counters.get(f"{queue}.ok", 0)),
                      str(failures["last_hour"].get(queue, 0)))
    console.print(table)
    index, feeds, rate = data["index"], data["feeds"], data["rate"]
    documents = index["documents"] if index["documents"] is not None else f"[red]unreadable ({index['error']})[/]"
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
