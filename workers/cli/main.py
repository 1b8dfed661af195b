"""The ``newsworkers`` command line: parse arguments, build Settings, call one function."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from workers.core.errors import ConfigError, NewsworkersError
from workers.settings import Settings, settings_from

__all__ = ["app", "main", "register_commands"]

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Distributed news ingestion and search.")
feeds_app = typer.Typer(no_args_is_help=True, help="The feed registry: add, import, list, remove, status.")
failed_app = typer.Typer(no_args_is_help=True, help="Dead letters: work that failed for good, with its reason.")
app.add_typer(feeds_app, name="feeds")
app.add_typer(failed_app, name="failed")

console = Console()
err = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (default ./data).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


_overrides: dict[str, str] = {}


@app.callback()
def _global_options(
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="NAME=VALUE", help="Override any setting for this command, e.g. --set fetch_timeout_s=5.",
    )] = None,
) -> None:
    for spec in set_ or []:
        name, sep, value = spec.partition("=")
        if not sep or name.strip() not in Settings.model_fields:
            raise ConfigError(f"--set takes NAME=VALUE with NAME a setting (see `newsworkers settings`), got {spec!r}")
        _overrides[name.strip()] = value.strip()


def _settings(data_dir: Path | None) -> Settings:
    return settings_from({**_overrides, "data_dir": data_dir})


@app.command()
def run(
    data_dir: DataDir = None,
    once: Annotated[bool, typer.Option("--once", help="Poll every feed once, drain all queues, exit.")] = False,
    timeout: Annotated[float | None, typer.Option(help="With --once: give up after this many seconds.")] = 3600.0,
) -> None:
    """Start broker (if embedded), workers and scheduler, and ingest until Ctrl-C."""
    from workers.core.logs import redact_secrets
    from workers.ops.runner import run as run_pipeline
    from workers.worker.metrics_export import serve_run_metrics

    settings = _settings(data_dir)
    if serve_run_metrics(settings) is not None:
        console.print(f"metrics on http://{settings.metrics_addr}:{settings.metrics_port}/metrics")
    summary = run_pipeline(settings, once=once, timeout_s=timeout if once else None, console=console)
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


@app.command()
def search(
    query: Annotated[str, typer.Argument(help='Words, "phrases", AND/OR/NOT, +/-, field:value.')] = "",
    facet: Annotated[list[str] | None, typer.Option("--facet", help="Count values of this facet.")] = None,
    filter_: Annotated[list[str] | None, typer.Option("--filter", help="FACET=VALUE; repeat to OR.")] = None,
    since: Annotated[str | None, typer.Option(help="Published on or after (ISO date or time).")] = None,
    until: Annotated[str | None, typer.Option(help="Published on or before (ISO date or time).")] = None,
    sort: Annotated[str, typer.Option(help="relevance or date")] = "relevance",
    limit: Annotated[int, typer.Option(min=0, max=10_000)] = 10,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    collapse: Annotated[bool, typer.Option("--collapse", help="One hit per near-duplicate cluster.")] = False,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Search the index."""
    from workers.search.backend import open_backend
    from workers.search.request import build_query, filters_from_specs

    request = build_query(query, filters=filters_from_specs(filter_ or []), since=since, until=until, sort=sort,
                          limit=limit, offset=offset, facets=facet or [], collapse=collapse)
    backend = open_backend(_settings(data_dir))
    try:
        result = backend.search(request)
    finally:
        backend.close()
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
        return
    table = Table(title=f"{result.total} matching articles")
    for column in ("published", "source", "title", "locations"):
        table.add_column(column)
    for hit in result.hits:
        published = hit.published_at.date().isoformat() if hit.published_at else ""
        table.add_row(published, escape(hit.source_name or hit.domain or ""), escape(hit.title),
                      escape(", ".join(hit.locations[:4])))
    console.print(table)
    for name, counts in result.facets.items():
        console.print(f"[bold]{name}[/]: " + ", ".join(f"{escape(c.value)} ({c.count})" for c in counts))


@app.command()
def extract(
    paths: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="Local HTML files.")],
    url: Annotated[str | None, typer.Option(help="The page's URL, for metadata and relative links.")] = None,
    as_json: AsJson = False,
    no_entities: Annotated[bool, typer.Option("--no-entities", help="Skip named-entity recognition.")] = False,
) -> None:
    """Extract articles from local HTML files (with --json: one JSON Article per line)."""
    from workers.core.ids import document_id
    from workers.core.models import FeedItem, FetchedPage
    from workers.entities.recognizer import recognizer_for
    from workers.pipeline.extract.article import extract_article
    from workers.pipeline.fetch.page import decode_html

    settings = _settings(None)
    ner = None if no_entities else recognizer_for(settings)
    for path in paths:
        page_url = url or path.resolve().as_uri()
        item = FeedItem(doc_id=document_id(page_url), url=page_url, feed_url=page_url)
        page = FetchedPage(item=item, final_url=page_url, status=200, html=decode_html(path.read_bytes(), None))
        try:
            article = extract_article(page, settings, ner)
        except NewsworkersError as exc:
            if as_json:
                sys.stdout.write(json.dumps({"path": str(path), "error": str(exc), "reason": exc.reason}) + "\n")
            else:
                err.print(f"[red]{escape(str(path))}[/]: {escape(str(exc))} ({exc.reason})")
            continue
        if as_json:
            sys.stdout.write(json.dumps({"path": str(path), **article.model_dump(mode="json")}, ensure_ascii=False)
                             + "\n")
            continue
        console.rule(f"[bold]{escape(article.title)}[/]")
        console.print(f"{article.published_at.isoformat()} ({article.date_source}), {article.language}, "
                      f"{article.word_count} words from the {article.body_source}")
        for kind in ("persons", "organizations", "locations", "groups", "events"):
            if getattr(article, kind):
                console.print(f"[bold]{kind}[/]: {escape(', '.join(getattr(article, kind)))}")
        console.print(escape(article.body[:600] + ("…" if len(article.body) > 600 else "")))


def register_commands() -> None:
    """Import the modules that add their commands to ``app`` (kept out of import time: they pull in more)."""
    from workers import (  # noqa: F401
        cli_admin,
        cli_alerts,
        cli_api,
        cli_backfill,
        cli_index,
        cli_reprocess,
        cli_retention,
    )


def main() -> None:
    """Console-script entry: our errors become one clear line and exit code 2."""
    register_commands()

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app()
    except NewsworkersError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))} [dim]({exc.reason})[/]")
        raise SystemExit(2) from None


@app.command("settings")
def show_settings(
    toml: Annotated[bool, typer.Option("--toml", help="Print every setting's default as TOML.")] = False,
    data_dir: DataDir = None,
) -> None:
    """The settings in force (secrets hidden), or the documented defaults with --toml."""
    from workers.runtime import redact
    from workers.settings import render_defaults_toml

    if toml:
        sys.stdout.write(render_defaults_toml())
        return
    values = _settings(data_dir).model_dump(mode="json")
    for key in ("redis_url", "elasticsearch_url"):
        if values.get(key):
            values[key] = redact(values[key])
    for key in ("elasticsearch_api_key", "elasticsearch_password"):
        values[key] = "***" if values.get(key) else values.get(key)
    sys.stdout.write(json.dumps(values, indent=2) + "\n")
