"""``newsworkers search`` (one page of results), ``export`` (a whole result set) and ``serve`` (the HTTP API
and search page)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from workers.cli.options import AsJson, Bbox, DataDir, Near, console, err, require_index, settings_for

__all__: list[str] = []

commands = typer.Typer()


@commands.command()
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
    near: Near = None,
    bbox: Bbox = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Search the index."""
    from workers.search.backend import open_backend
    from workers.search.countries import country_name
    from workers.search.model import COUNTRY_FACET
    from workers.search.query_syntax import query_notes
    from workers.search.request import build_query, filters_from_specs

    request = build_query(query, filters=filters_from_specs(filter_ or []), since=since, until=until, sort=sort,
                          limit=limit, offset=offset, facets=facet or [], collapse=collapse, near=near, bbox=bbox)
    notes = query_notes(query)  # a bad query is the first thing to hear about, before a missing index
    backend = open_backend(require_index(settings_for(data_dir)))
    try:
        result = backend.search(request)
    finally:
        backend.close()
    for note in notes:
        err.print(f"[yellow]note:[/] {escape(note)}")
    if as_json:
        sys.stdout.write(json.dumps({**result.to_json(), **({"notes": notes} if notes else {})},
                                    ensure_ascii=False) + "\n")
        return
    table = Table(title=f"{result.total} matching articles")
    # Countries get a column only when a hit has some, so an index without a geoparser keeps its width.
    with_countries = any(hit.countries for hit in result.hits)
    for column in ("published", "source", "title", "locations", *(["countries"] if with_countries else [])):
        table.add_column(column)
    for hit in result.hits:
        published = hit.published_at.date().isoformat() if hit.published_at else ""
        row = [published, escape(hit.source_name or hit.domain or ""), escape(hit.title),
               escape(", ".join(hit.locations[:4]))]
        if with_countries:
            row.append(escape(", ".join(map(country_name, hit.countries[:3]))))
        table.add_row(*row)
    console.print(table)
    for name, counts in result.facets.items():
        console.print(f"[bold]{name}[/]: " + ", ".join(
            f"{escape(country_name(c.value) if name == COUNTRY_FACET else c.value)} ({c.count})" for c in counts))



@commands.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default api_host: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default api_port: 8000).")] = None,
    data_dir: DataDir = None,
) -> None:
    """The search page at / and the HTTP API under /api (read-only; OpenAPI at /docs)."""
    import uvicorn

    from workers.api import create_app

    settings = require_index(settings_for(data_dir))
    bind_host = host or settings.api_host
    bind_port = settings.api_port if port is None else port
    api = create_app(settings)
    console.print(f"search page on http://{bind_host}:{bind_port}/ (API under /api, OpenAPI at /docs)")
    if bind_host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]listening on {bind_host}: anyone who can reach this port can search the index[/]")
    uvicorn.run(api, host=bind_host, port=bind_port, log_level="warning")


@commands.command()
def export(
    query: Annotated[str, typer.Argument(help='Words, "phrases", AND/OR/NOT, +/-, field:value.')] = "",
    format_: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    filter_: Annotated[list[str] | None, typer.Option("--filter", help="FACET=VALUE; repeat to OR.")] = None,
    since: Annotated[str | None, typer.Option(help="Published on or after (ISO date or time).")] = None,
    until: Annotated[str | None, typer.Option(help="Published on or before (ISO date or time).")] = None,
    collapse: Annotated[bool, typer.Option("--collapse", help="One document per near-duplicate cluster.")] = False,
    near: Near = None,
    bbox: Bbox = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Every matching document, newest first, as JSON Lines or CSV (streamed, any size)."""
    from workers.api.export import FORMATS, export_lines
    from workers.core.errors import QuerySyntaxError
    from workers.search.backend import open_backend
    from workers.search.query_syntax import query_notes
    from workers.search.request import build_query, filters_from_specs

    if format_ not in FORMATS:
        raise QuerySyntaxError(f"--format is jsonl or csv, not {format_!r}")
    request = build_query(query, filters=filters_from_specs(filter_ or []), since=since, until=until, sort="date",
                          collapse=collapse, near=near, bbox=bbox)
    for note in query_notes(query):
        err.print(f"[yellow]note:[/] {escape(note)}")
    settings = require_index(settings_for(data_dir))
    backend = open_backend(settings)
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        for chunk in export_lines(backend, request, format_, page_size=settings.api_export_page_size,
                                  max_docs=settings.api_export_max_docs):
            out.write(chunk)
    finally:
        backend.close()
        if output:
            out.close()
