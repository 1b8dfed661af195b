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
from workers.search.geofilter import BBox, Near
from workers.search.model import FACETS, SearchQuery, Sort

__all__ = ["build_query", "filters_from_specs", "parse_bbox", "parse_date", "parse_near"]


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


def _numbers(value: str, name: str, count: int, shape: str) -> list[float]:
    parts = [part.strip() for part in value.split(",")]
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) != count:
        raise QuerySyntaxError(f"{name} takes {shape}, got {value!r}")
    return numbers


def parse_near(value: str | None, name: str = "--near") -> Near | None:
    """``LAT,LON,KM`` (decimal degrees, kilometres) as a distance filter."""
    if not value or not value.strip():
        return None
    lat, lon, km = _numbers(value, name, 3, "LAT,LON,KM such as 33.34,44.40,50")
    try:
        return Near(lat, lon, km)
    except QuerySyntaxError as exc:
        raise QuerySyntaxError(f"{name} {value!r}: {str(exc).removeprefix('near: ')}") from exc


def parse_bbox(value: str | None, name: str = "--bbox") -> BBox | None:
    """``SOUTH,WEST,NORTH,EAST`` (the south-west corner's latitude and longitude, then the north-east one's)."""
    if not value or not value.strip():
        return None
    south, west, north, east = _numbers(value, name, 4, "SOUTH,WEST,NORTH,EAST such as 29,38.8,37.4,48.6")
    try:
        return BBox(south, west, north, east)
    except QuerySyntaxError as exc:
        raise QuerySyntaxError(f"{name} {value!r}: {str(exc).removeprefix('bbox: ')}") from exc


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
    names: tuple[str, str, str] = ("--since", "--until", "--sort"), near: str | None = None,
    bbox: str | None = None, geo_names: tuple[str, str] = ("--near", "--bbox"),
) -> SearchQuery:
    """The query for these options; ``names`` (and ``geo_names`` for near/bbox) are how the surface spells
    since/until/sort in its messages."""
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
                       histogram=histogram or None, near=parse_near(near, geo_names[0]),
                       bbox=parse_bbox(bbox, geo_names[1]))
