"""The ``newsworkers`` command line, assembled: the root app, its global options, and every command module.

Each module holds one group of commands and shares only :mod:`workers.cli.options`; this module imports
them all and nothing imports it back. Command bodies import what they run when they run, so that
``newsworkers --help`` does not load spaCy, Celery or a search backend.
"""

from __future__ import annotations

import os

import typer
from rich.markup import escape

from workers.cli import (
    alerts,
    backfill,
    config,
    entities,
    extract,
    failed,
    feeds,
    index,
    reprocess,
    retention,
    run,
    search,
    status,
)
from workers.cli.options import err, global_options
from workers.core.errors import NewsworkersError

__all__ = ["app", "main"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Distributed news ingestion and search.")
app.callback()(global_options)
# Top-level commands, in the order of the help text: ingest, search, inspect, operate.
for module in (run, search, extract, status, reprocess, retention, config):
    app.add_typer(module.commands)
app.add_typer(feeds.feeds_app, name="feeds")
app.add_typer(failed.failed_app, name="failed")
app.add_typer(alerts.alerts_app, name="alerts")
app.add_typer(entities.entities_app, name="entities")
app.add_typer(backfill.backfill_app, name="backfill")
app.add_typer(retention.blocklist_app, name="blocklist")
app.add_typer(index.index_app, name="index")
app.add_typer(index.kibana_app, name="kibana")


def main() -> None:
    """Console-script entry: our errors become one clear line and exit code 2."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app()
    except NewsworkersError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))} [dim]({exc.reason})[/]")
        raise SystemExit(2) from None
