"""The API's response bodies as pydantic models, so the OpenAPI document says what the answers really hold.

``SearchResponse`` is ``SearchResult.to_json()`` (the shape of ``newsworkers search --json``) with the date
histogram; a test compares the two.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from workers.core.models import Article, Place

__all__ = ["ApiError", "ArticleResponse", "DateBucketOut", "FacetCountOut", "HitOut", "SearchResponse"]


class ApiError(BaseModel):
    """Every 4xx/5xx we answer ourselves: a sentence for people and a stable reason code for programs."""

    error: str
    reason: str = Field(description="A reason code such as query.syntax, query.page_past_end, article.not_found.")
    position: int | None = Field(None, description="For query.syntax: the 0-based offset of the culprit in q.")


class FacetCountOut(BaseModel):
    value: str
    count: int
    name: str | None = Field(None, description="countries only: the country's English name (the value is its "
                                               "ISO 3166-1 alpha-2 code).")

    @model_serializer(mode="wrap")
    def _without_empty_name(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Other facets have no name: the answer leaves it out, as `newsworkers search --json` does.
        data: dict[str, Any] = handler(self)
        if data.get("name") is None:
            data.pop("name", None)
        return data


class DateBucketOut(BaseModel):
    start: str = Field(description="Start of the bucket, ISO 8601 in UTC; it spans one histogram interval.")
    count: int


class HitOut(BaseModel):
    id: str
    url: str
    title: str
    published_at: str | None
    source_name: str | None
    domain: str | None
    language: str | None
    authors: list[str]
    persons: list[str]
    organizations: list[str]
    locations: list[str]
    groups: list[str]
    events: list[str]
    collections: list[str]
    cluster_id: str | None
    duplicates: int = Field(description="Other articles in this hit's near-duplicate cluster.")
    countries: list[str] = Field(description="ISO 3166-1 alpha-2 codes of the countries its places lie in.")
    places: list[Place] = Field(description="Its places, resolved to GeoNames: name, id, country, admin1, lat, lon, "
                                "mentions.")
    snippet: str = Field(description="HTML: the escaped body text with the matched words in <b>.")


class SearchResponse(BaseModel):
    total: int = Field(description="Matching documents (near-duplicates included, even when collapsed).")
    hits: list[HitOut]
    facets: dict[str, list[FacetCountOut]]
    histogram: list[DateBucketOut] | None = Field(
        None, description="Matches per interval of published_at, oldest first, empty buckets left out; "
        "present when the request asked for one.",
    )
    notes: list[str] | None = Field(
        None, description="How the query was read where it differs from how it looks (a `word:` that is no "
        "field, searched as the word); present when there is one.",
    )


class ArticleResponse(BaseModel):
    article: Article
    cluster: list[HitOut] = Field(description="Every article of its near-duplicate cluster (itself included), "
                                  "earliest first; one entry when it has no duplicates.")
