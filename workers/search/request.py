"""Turn what a person typed (CLI options, URL parameters) into a :class:`SearchQuery`.

The CLI's ``search`` and ``export`` and the HTTP API all build their query
here, so a date, a filter or a sort means the same thing on every surface.
Every mistake raises :class:`~workers.core.errors.QuerySyntaxError` with a message
naming the culprit (the API answers it with a 400).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from workers.core.dates import parse_iso
from workers.core.errors import QuerySyntaxError
from workers.search.model import FACETS, SearchQuery, Sort

__all__ = ["build_query", "filters_from_specs", "parse_date"]


def parse_date(value: str | None, name: str, *, end: bool = False) -> datetime | None:
    """An ISO date or time (UTC unless it says otherwise); with ``end``, a bare date means the end of that day."""
    if not value:
        return None
    try:
        parsed = parse_iso(value.strip())
    except ValueError as exc:
        raise QuerySyntaxError(f"{name} {value!r} is not an ISO date such as 2020-01-27") from exc
    if end and len(value.strip()) == 10:
        parsed = parsed.replace(hour=23, minute=59, second=59, microsecond=999_999)
    return parsed


def filters_from_specs(specs: Iterable[str], name: str = "--filter") -> dict[str, list[str]]:
    """``FACET=VALUE`` specs as filters; a facet given twice ORs its values."""
    filters: dict[str, list[str]] = {}
    for spec in specs:
        facet, sep, value = spec.partition("=")
        if not sep:
            raise QuerySyntaxError(f"{name} takes FACET=VALUE, got {spec!r}")
        filters.setdefault(facet.strip(), []).append(value.strip())
    return filters


def build_query(
    text: str = "", *, filters: dict[str, list[str]] | None = None, since: str | None = None,
    until: str | None = None, sort: str = "relevance", limit: int = 10, offset: int = 0,
    facets: Iterable[str] = (), facet_size: int = 10, collapse: bool = False, histogram: str | None = None,
    names: tuple[str, str, str] = ("--since", "--until", "--sort"),
) -> SearchQuery:
    """The query for these options; ``names`` are how the surface spells since/until/sort in its messages."""
    since_name, until_name, sort_name = names
    if sort not in tuple(Sort):
        raise QuerySyntaxError(f"{sort_name} is 'relevance' or 'date', not {sort!r}")
    wanted = [f.strip() for f in facets if f.strip()]
    unknown = [f for f in [*(filters or {}), *wanted] if f not in FACETS]
    if unknown:
        raise QuerySyntaxError(f"unknown facet {unknown[0]!r}; facets are: {', '.join(FACETS)}")
    return SearchQuery(text=text, filters=dict(filters or {}), since=parse_date(since, since_name),
                       until=parse_date(until, until_name, end=True), sort=Sort(sort), limit=limit, offset=offset,
                       facets=list(dict.fromkeys(wanted)), facet_size=facet_size, collapse=collapse,
                       histogram=histogram or None)
