"""The search parameters every search endpoint takes, read once into a :class:`SearchQuery`.

Each facet is a parameter of its own (``?locations=Iraq&locations=Baghdad`` ORs the two), so a search page
URL reads like the search. Parameters we do not know are refused rather than ignored: a misspelt facet
must not silently widen the search.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Literal

from fastapi import Query, Request

from workers.core.errors import NewsworkersError
from workers.search.model import FACETS, SearchQuery
from workers.search.request import build_query

__all__ = ["Interval", "SearchParams", "facet_filters", "reject_unknown"]

SortName = Literal["relevance", "date"]
Interval = Literal["hour", "day", "week", "month"]  # HISTOGRAM_INTERVALS (a test checks they agree)


class SearchParams:
    """q, dates, sort, facets wanted, collapse, histogram, near, bbox: what search and export share (not paging)."""

    def __init__(
        self,
        q: Annotated[str, Query(max_length=4096, description='Words, "phrases", AND/OR/NOT, +/-, field:value.')]
        = "",
        since: Annotated[str | None, Query(description="Published on or after (ISO date or time, UTC).",
                                           examples=["2020-01-27", "2020-01-27T08:30:00+03:00"])] = None,
        until: Annotated[str | None, Query(description="Published on or before (ISO date or time; a date "
                                                       "means the end of that day).",
                                           examples=["2020-03-31", "9999-12-31"])] = None,
        sort: Annotated[SortName, Query(description="relevance (default with words) or date, newest first.")]
        = "relevance",
        facets: Annotated[list[str] | None, Query(description=f"Facets to count: {', '.join(FACETS)} "
                                                              "(repeat, or comma-separated).")] = None,
        facet_size: Annotated[int, Query(ge=1, le=100, description="Values counted per facet, most frequent "
                                                                    "first.")] = 10,
        collapse: Annotated[bool, Query(description="One hit per near-duplicate cluster.")] = False,
        histogram: Annotated[Interval | None, Query(
            description="Count matches per hour, day, ISO week (from Monday) or month, in UTC.")] = None,
        near: Annotated[str | None, Query(description="LAT,LON,KM: only articles with a place within KM "
                                                      "kilometres of that point.", examples=["33.34,44.40,50"])]
        = None,
        bbox: Annotated[str | None, Query(description="SOUTH,WEST,NORTH,EAST in degrees: only articles with a "
                                                      "place inside that box.", examples=["29,38.8,37.4,48.6"])]
        = None,
    ) -> None:
        self.q, self.since, self.until, self.sort = q, since, until, sort
        self.near, self.bbox = near, bbox
        self.facets = [f for spec in facets or [] for f in spec.split(",") if f.strip()]
        self.facet_size, self.collapse, self.histogram = facet_size, collapse, histogram

    def query(self, filters: dict[str, list[str]], *, limit: int, offset: int) -> SearchQuery:
        return build_query(self.q, filters=filters, since=self.since, until=self.until, sort=self.sort,
                           limit=limit, offset=offset, facets=self.facets, facet_size=self.facet_size,
                           collapse=self.collapse, histogram=self.histogram, names=("since", "until", "sort"),
                           near=self.near, bbox=self.bbox, geo_names=("near", "bbox"))


def _facet_filters(**values: list[str] | None) -> dict[str, list[str]]:
    return {facet: [v for v in chosen if v.strip()] for facet, chosen in values.items() if chosen}


# One query parameter per facet, declared through the signature so the OpenAPI document lists each.
_facet_filters.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
    inspect.Parameter(facet, inspect.Parameter.KEYWORD_ONLY, default=None,
                      annotation=Annotated[list[str] | None, Query(description=f"Only articles with this {facet} "
                                                                   "value (repeat to OR values).")])
    for facet in FACETS
])
facet_filters: Any = _facet_filters


def reject_unknown(request: Request, allowed: set[str]) -> None:
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise NewsworkersError(
            f"unknown parameter {unknown[0]!r}; facets to filter on are: {', '.join(FACETS)}",
            reason="query.unknown_parameter",
        )
