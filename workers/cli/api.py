"""``newsworkers serve`` (the HTTP API and search page) and ``newsworkers export`` (a whole result set)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from workers.cli.main import DataDir, _settings, app, console

__all__: list[str] = []


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default api_host: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default api_port: 8000).")] = None,
    data_dir: DataDir = None,
) -> None:
    """The search page at / and the HTTP API under /api (read-only; OpenAPI at /docs)."""
    import uvicorn

    from workers.api import create_app

    settings = _settings(data_dir)
    bind_host = host or settings.api_host
    bind_port = settings.api_port if port is None else port
    api = create_app(settings)
    console.print(f"search page on http://{bind_host}:{bind_port}/ (API under /api, OpenAPI at /docs)")
    if bind_host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]listening on {bind_host}: anyone who can reach this port can search the index[/]")
    uvicorn.run(api, host=bind_host, port=bind_port, log_level="warning")


@app.command()
def export(
    query: Annotated[str, typer.Argument(help='Words, "phrases", AND/OR/NOT, +/-, field:value.')] = "",
    format_: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    filter_: Annotated[list[str] | None, typer.Option("--filter", help="FACET=VALUE; repeat to OR.")] = None,
    since: Annotated[str | None, typer.Option(help="Published on or after (ISO date or time).")] = None,
    until: Annotated[str | None, typer.Option(help="Published on or before (ISO date or time).")] = None,
    collapse: Annotated[bool, typer.Option("--collapse", help="One document per near-duplicate cluster.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Every matching document, newest first, as JSON Lines or CSV (streamed, any size)."""
    from workers.api.export import FORMATS, export_lines
    from workers.core.errors import QuerySyntaxError
    from workers.search.backend import open_backend
    from workers.search.request import build_query, filters_from_specs

    if format_ not in FORMATS:
        raise QuerySyntaxError(f"--format is jsonl or csv, not {format_!r}")
    settings = _settings(data_dir)
    request = build_query(query, filters=filters_from_specs(filter_ or []), since=since, until=until, sort="date",
                          collapse=collapse)
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
