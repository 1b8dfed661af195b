"""The backend-neutral search request and result.

Both backends take a :class:`SearchQuery` and return a :class:`SearchResult`
of the same shape; the CLI's ``--json`` output is ``SearchResult.to_json()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from workers.core.errors import QuerySyntaxError
from workers.core.models import Article, Place
from workers.search.countries import country_code, country_name
from workers.search.geofilter import BBox, Near

__all__ = [
    "COUNTRY_FACET", "DATE_RANGE", "ENTITY_FACETS", "ENTITY_LOOKUPS", "FACETS", "HISTOGRAM_INTERVALS", "DateBucket",
    "FacetCount", "Hit", "SearchQuery", "SearchResult", "Sort", "alias_field", "bucket_start", "facet_value",
    "found_field",
]  # fmt: skip

FACETS = (
    "persons",
    "organizations",
    "locations",
    "groups",
    "events",
    "source_name",
    "domain",
    "language",
    "authors",
    "tags",
    "collections",
    "countries",
)
"""Fields that can be filtered on and counted."""

COUNTRY_FACET = "countries"
"""Its values are ISO 3166-1 alpha-2 codes: a filter also takes a name (Iraq), counts also say the name."""

ENTITY_FACETS = ("persons", "organizations", "locations", "groups", "events")
"""The facets a field query also matches by the spellings merged away (``persons:Soleimani``)."""


def alias_field(kind: str) -> str:
    """The filter key of a kind's merged-away spellings (``persons.alias``)."""
    return f"{kind}.alias"


def found_field(kind: str) -> str:
    """The filter key of a kind's names as the recognizer found them, before analysts' corrections
    (``persons.found``): how an update in place finds the articles a correction touches."""
    return f"{kind}.found"


ENTITY_LOOKUPS = tuple(f(kind) for kind in ENTITY_FACETS for f in (alias_field, found_field))
"""Filter keys besides the facets: they filter, they are not counted."""

HIT_FIELDS = (
    "id", "url", "title", "published_at", "source_name", "domain", "language", "authors",
    "persons", "organizations", "locations", "groups", "events", "collections", "cluster_id", "duplicates",
    "countries",
)


def facet_value(facet: str, value: str) -> str:
    """The value a facet filter or ``facet:value`` looks for: a country's name or code stands for its code."""
    return country_code(value) if facet == COUNTRY_FACET else value


HISTOGRAM_INTERVALS = ("hour", "day", "week", "month")
"""Date histogram buckets, calendar ones in UTC: an hour, a day, an ISO week (from Monday 00:00) or a month
(from its 1st), as Elasticsearch's ``calendar_interval`` names them."""


def bucket_start(moment: datetime, interval: str) -> datetime:
    """The start of the histogram bucket that holds ``moment`` (UTC): what both backends' buckets begin at."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    if interval == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    raise QuerySyntaxError(f"histogram interval {interval!r} is not one of: {', '.join(HISTOGRAM_INTERVALS)}")


DATE_RANGE = (datetime(1678, 1, 1, tzinfo=UTC), datetime(2262, 1, 1, tzinfo=UTC))
"""Dates a query may name: Tantivy stores nanoseconds in 64 bits; since/until beyond are clamped to these
(no article is dated outside them), so "since year 1" means "from the start" instead of an error."""


class Sort(StrEnum):
    RELEVANCE = "relevance"
    DATE = "date"


@dataclass(slots=True)
class SearchQuery:
    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)  # OR within a facet, AND across facets
    since: datetime | None = None
    until: datetime | None = None
    sort: Sort = Sort.RELEVANCE
    limit: int = 10
    offset: int = 0
    facets: list[str] = field(default_factory=list)
    facet_size: int = 10
    collapse: bool = False  # one hit per near-duplicate cluster (cluster_id); total still counts documents
    histogram: str | None = None  # a key of HISTOGRAM_INTERVALS: count matches per bucket of published_at
    cluster_id: str | None = None  # only the members of this near-duplicate cluster
    near: Near | None = None  # only articles with a place within this distance of a point
    bbox: BBox | None = None  # only articles with a place inside this box (with near: both must hold)

    def __post_init__(self) -> None:
        unknown = [f for f in self.filters if f not in FACETS and f not in ENTITY_LOOKUPS]
        unknown += [f for f in self.facets if f not in FACETS]
        if unknown:
            raise QuerySyntaxError(f"unknown facet {unknown[0]!r}; facets are: {', '.join(FACETS)}")
        if self.histogram is not None and self.histogram not in HISTOGRAM_INTERVALS:
            raise QuerySyntaxError(f"histogram interval {self.histogram!r} is not one of: "
                                   f"{', '.join(HISTOGRAM_INTERVALS)}")
        if self.limit < 0 or self.offset < 0:
            raise QuerySyntaxError("limit and offset must not be negative")
        # A date without a zone is UTC, like every date we index; mixing aware and naive must not raise.
        self.since, self.until = _utc(self.since), _utc(self.until)
        if self.since and self.until and self.since > self.until:
            raise QuerySyntaxError("--since is after --until")
        if not self.text.strip() and self.sort is Sort.RELEVANCE:
            # With no words every document scores the same; newest first is the only useful order.
            self.sort = Sort.DATE


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 pushed past datetime's own range by its zone offset
        return DATE_RANGE[0] if value.year < DATE_RANGE[0].year else DATE_RANGE[1]
    return min(max(value, DATE_RANGE[0]), DATE_RANGE[1])


@dataclass(slots=True)
class FacetCount:
    value: str
    count: int

    def to_json(self, facet: str) -> dict[str, Any]:
        data: dict[str, Any] = {"value": self.value, "count": self.count}
        if facet == COUNTRY_FACET:
            data["name"] = country_name(self.value)
        return data


@dataclass(slots=True)
class DateBucket:
    start: datetime  # UTC; the bucket spans one histogram interval from here
    count: int


@dataclass(slots=True)
class Hit:
    id: str
    url: str
    title: str
    published_at: datetime | None
    source_name: str | None
    domain: str | None
    language: str | None
    authors: list[str]
    persons: list[str]
    organizations: list[str]
    locations: list[str]
    groups: list[str]
    events: list[str]
    snippet: str
    score: float | None = None
    collections: list[str] = field(default_factory=list)
    cluster_id: str | None = None
    duplicates: int = 0
    countries: list[str] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)

    @classmethod
    def from_article(cls, article: Article, *, snippet: str, score: float | None = None) -> Hit:
        """The hit showing a stored ``article``: both backends keep the whole Article and read it back, so
        only the snippet (each backend's highlighter) and the score (None when sorted by date) differ."""
        return cls(
            id=article.id, url=article.url, title=article.title, published_at=article.published_at,
            source_name=article.source_name, domain=article.domain, language=article.language,
            authors=article.authors, persons=article.persons, organizations=article.organizations,
            locations=article.locations, groups=article.groups, events=article.events,
            snippet=snippet, score=score, collections=article.collections,
            # The model's None ("its own cluster") is spelled out, so a hit's cluster can always be asked for.
            cluster_id=article.cluster_id or article.id, duplicates=article.duplicates,
            countries=article.countries, places=article.places,
        )

    def to_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in HIT_FIELDS}
        data["published_at"] = self.published_at.isoformat() if self.published_at else None
        data["places"] = [place.model_dump() for place in self.places]
        data["snippet"] = self.snippet
        return data


@dataclass(slots=True)
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    histogram: list[DateBucket] | None = None  # when the query asked for one: non-empty buckets, oldest first

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "total": self.total,
            "hits": [hit.to_json() for hit in self.hits],
            "facets": {
                name: [c.to_json(name) for c in counts] for name, counts in self.facets.items()
            },
        }
        if self.histogram is not None:
            data["histogram"] = [{"start": b.start.isoformat(), "count": b.count} for b in self.histogram]
        return data
