"""``newsworkers entities ...``: the entity facets, and analysts' corrections to them (merge, rename, block, undo).

A correction is kept in Redis, applies to every article extracted from then on, and is brought to the
articles already indexed at once (see :mod:`workers.ops.entity_corrections`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from workers.cli.options import AsJson, DataDir, attached, console, print_json, settings_for
from workers.core.errors import ConfigError
from workers.core.models import ENTITY_KINDS

if TYPE_CHECKING:  # the commands import their modules when they run, to keep `newsworkers --help` quick
    from workers.entities.corrections import Correction
    from workers.ops.entity_corrections import CorrectionReport

__all__: list[str] = []

entities_app = typer.Typer(no_args_is_help=True,
                           help="The entity facets (persons, organizations, ...) and analysts' corrections to them.")

Kind = Annotated[str | None, typer.Option("--kind", help=f"One of {', '.join(ENTITY_KINDS)}; default: every kind.")]


def _kind(kind: str | None) -> str | None:
    if kind is not None and kind not in ENTITY_KINDS:
        raise ConfigError(f"unknown entity kind {kind!r}; kinds are: {', '.join(ENTITY_KINDS)}",
                          reason="entities.bad_input")
    return kind


@entities_app.command("list")
def entities_list(
    kind: Kind = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Names shown per kind, most articles first.")] = 50,
    query: Annotated[str, typer.Option("--query", help="Count only over the articles this search finds.")] = "",
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """The names of each kind with their article counts, and the corrections in force."""
    from workers.entities.correction_store import CorrectionStore
    from workers.ops.entity_corrections import entity_counts
    from workers.search.backend import open_backend

    kinds = [_kind(kind)] if kind else list(ENTITY_KINDS)
    settings = settings_for(data_dir)
    backend = open_backend(settings)
    try:
        counts = entity_counts(backend, kinds, size=limit, text=query)  # type: ignore[arg-type]
    finally:
        backend.close()
    with attached(data_dir) as runtime:
        corrections = CorrectionStore(runtime.redis, settings.namespace).all()
    corrections = [c for c in corrections if kind is None or c.kind in (None, kind)]
    if as_json:
        print_json({"entities": {k: [{"name": n, "articles": c} for n, c in v] for k, v in counts.items()},
                    "corrections": [c.model_dump(mode="json") for c in corrections]})
        return
    for name, values in counts.items():
        table = Table(title=f"{name}: {len(values)} shown")
        table.add_column("name")
        table.add_column("articles", justify="right")
        for value, count in values:
            table.add_row(escape(value), str(count))
        console.print(table)
    _print_corrections(corrections)


@entities_app.command("corrections")
def entities_corrections(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """The corrections in force, oldest first, with the ids `entities undo` takes."""
    from workers.entities.correction_store import CorrectionStore

    with attached(data_dir) as runtime:
        corrections = CorrectionStore(runtime.redis, runtime.settings.namespace).all()
    if as_json:
        print_json([c.model_dump(mode="json") for c in corrections])
        return
    _print_corrections(corrections, empty="no entity corrections")


@entities_app.command("merge")
def entities_merge(
    name: Annotated[str, typer.Argument(help="The name merged away; it stays searchable as an alias.")],
    into: Annotated[str, typer.Argument(help="The name kept.")],
    kind: Kind = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Merge NAME into INTO: articles listing NAME list INTO instead (undo with `entities undo ID`)."""
    from workers.ops.entity_corrections import correct

    _report(correct(settings_for(data_dir), "merge", name, into, _kind(kind)), as_json)


@entities_app.command("rename")
def entities_rename(
    old: Annotated[str, typer.Argument(help="The spelling to replace; it stays searchable as an alias.")],
    new: Annotated[str, typer.Argument(help="The spelling shown from now on.")],
    kind: Kind = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Spell the entity OLD as NEW in every article (undo with `entities undo ID`)."""
    from workers.ops.entity_corrections import correct

    _report(correct(settings_for(data_dir), "rename", old, new, _kind(kind)), as_json)


@entities_app.command("block")
def entities_block(
    name: Annotated[str, typer.Argument(help="A name that is not an entity of that kind (or of any).")],
    kind: Kind = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Take NAME out of a kind's facet (every kind without --kind) in every article (undo with `entities undo ID`)."""
    from workers.ops.entity_corrections import correct

    _report(correct(settings_for(data_dir), "block", name, None, _kind(kind)), as_json)


@entities_app.command("undo")
def entities_undo(
    correction_id: Annotated[int, typer.Argument(metavar="ID", help="The id `entities corrections` shows.")],
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Undo one correction: the articles it touched get their entity fields without it."""
    from workers.ops.entity_corrections import undo

    _report(undo(settings_for(data_dir), correction_id), as_json)


@entities_app.command("refresh")
def entities_refresh(
    name: Annotated[str, typer.Argument(help="The name whose articles are brought up to date.")],
    kind: Kind = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Give the indexed articles carrying NAME their entity fields with the corrections in force (after an update
    in place an outage cut short, or a restore of an older index)."""
    from workers.ops.entity_corrections import refresh

    _report(refresh(settings_for(data_dir), name, _kind(kind)), as_json)


def _report(report: CorrectionReport, as_json: bool) -> None:
    if as_json:
        print_json(report.to_json())
        return
    verb = "undid" if report.undone else "applied"
    where = {"here": "", "elasticsearch": " in Elasticsearch",
             "index worker": " (sent to the index worker)"}.get(report.where, "")
    done = (f"{verb} correction {report.correction.id}: {escape(report.correction.describe())}; "
            if report.correction else "")
    console.print(f"{done}{report.updated} of {report.found} articles carrying the name updated{where}")


def _print_corrections(corrections: Sequence[Correction], *, empty: str = "") -> None:
    if not corrections:
        if empty:
            console.print(empty)
        return
    table = Table(title=f"{len(corrections)} corrections")
    for column in ("id", "correction", "made"):
        table.add_column(column)
    for c in corrections:
        table.add_row(str(c.id), escape(c.describe()), c.created_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)
