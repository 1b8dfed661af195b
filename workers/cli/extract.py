"""``newsworkers extract``: the extract stage on local HTML files, without Redis or workers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from workers.cli.options import AsJson, console, err, settings_for
from workers.core.errors import NewsworkersError

__all__: list[str] = []

commands = typer.Typer()


@commands.command()
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
    from workers.net.decoding import decode_html
    from workers.pipeline.extract.article import extract_article

    settings = settings_for(None)
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
        if article.countries:
            console.print(f"[bold]countries[/]: {', '.join(article.countries)}; [bold]places[/]: "
                          + escape(", ".join(f"{p.name} ({p.country})" for p in article.places)))
        console.print(escape(article.body[:600] + ("…" if len(article.body) > 600 else "")))
