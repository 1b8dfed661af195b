"""The typed records that travel between stages: FeedItem → FetchedPage → Article.

They are pydantic models so that every hop through the broker (JSON) is
validated on arrival, and both search backends read one flat document shape.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from workers.core.ids import CURRENT_ID_VERSION

__all__ = [
    "ENTITY_KINDS",
    "PIPELINE_VERSION",
    "ArchiveRef",
    "Article",
    "BodySource",
    "DateSource",
    "EntityNames",
    "Feed",
    "FeedItem",
    "FetchedPage",
    "Place",
    "utcnow",
]

# 3: countries and places; 4: entity aliases by kind and the names found; 5: declared titles, dated offsets, bylines;
# 6: tags folded by case and split at commas, semicolons and pipes; 7: the lead put back, lists of links dropped,
# declared bodies cleaned, bylines from the meta author and the body's edge; entity kinds from a name's
# surroundings (appositives, lists, prepositions, headlines), short names and acronyms joined to long forms
PIPELINE_VERSION = 7
"""Bumped whenever extraction's output for the same page can change (a new or changed field, extractor,
model, cleanup or date rule): every Article records it, and ``newsworkers reprocess --only-older-version``
re-extracts, from the page archive, exactly the documents an older version made."""

ENTITY_KINDS = ("persons", "organizations", "locations", "groups", "events")


def utcnow() -> datetime:
    return datetime.now(UTC)


class DateSource(StrEnum):
    """Where ``published_at`` came from, best first."""

    PAGE = "page"
    FEED = "feed"
    URL = "url"
    FETCH_TIME = "fetch_time"


class BodySource(StrEnum):
    """How the article body was obtained."""

    PAGE = "page"
    FEED = "feed"
    TITLE_ONLY = "title_only"  # neither page nor feed had text; the title alone is indexed


class Feed(BaseModel):
    """A feed in the registry."""

    model_config = ConfigDict(extra="ignore")

    url: str
    title: str | None = None
    source_name: str | None = None
    local: bool = Field(False, description="A file: feed of the offline corpus; only it may link file: pages.")
    collections: list[str] = Field(default_factory=list, description="OPML folders and tags, given to its articles.")
    added_at: datetime = Field(default_factory=utcnow)


class FeedItem(BaseModel):
    """One entry of a polled feed, with the feed's own fields kept as fallbacks."""

    model_config = ConfigDict(extra="ignore")

    doc_id: str
    url: str
    feed_url: str
    feed_title: str | None = None
    feed_local: bool = False
    source_name: str | None = None
    guid: str | None = None
    title: str | None = None
    published_at: datetime | None = None
    summary: str | None = None
    content_html: str | None = None
    authors: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    image_url: str | None = None
    collections: list[str] = Field(default_factory=list, description="OPML folders and tags of the feed.")
    id_version: int = Field(CURRENT_ID_VERSION,
                            description="Document id version of doc_id (1 for items indexed before v2).")
    revision: str | None = Field(None, description="Hash of the entry's updated date and content: a change is a "
                                                   "correction, fetched again into the same document.")
    backfill: str | None = Field(None, description="Id of the backfill that sent the item: it travels on the "
                                                   "backfill queues, after live news.")


class ArchiveRef(BaseModel):
    """Where one raw page lives: a WARC record, by file and byte range (the record's gzip member)."""

    model_config = ConfigDict(frozen=True)

    path: str = Field(description="The WARC file, absolute, or relative to the archive directory.")
    offset: int = Field(ge=0, description="Byte offset of the record in the file.")
    length: int = Field(gt=0, description="Bytes of the record as stored (compressed).")


class FetchedPage(BaseModel):
    """An article page as fetched: the item it came from and the decoded HTML.

    With ``archive`` set, ``html`` may travel empty: the extract stage reads the page from the archive, so
    big pages cost the broker a pointer, not their bytes.
    """

    item: FeedItem
    final_url: str
    status: int
    html: str = ""
    archive: ArchiveRef | None = None
    content_type: str | None = None
    fetched_at: datetime = Field(default_factory=utcnow)
    fetch_error: str | None = Field(None, description="Reason code when the page could not be had.")
    reprocess: bool = Field(False, description="Extracted again from the archive (newsworkers reprocess): the "
                                               "article keeps item.doc_id, so its document is updated in place.")


class Place(BaseModel):
    """A location mention resolved to one GeoNames place (a city, region or country)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="The place's name as the gazetteer spells it (English where it has one).")
    geonames_id: int = Field(description="GeoNames id: one place, whatever the spelling or language.")
    country: str = Field(description="ISO 3166-1 alpha-2 code of the country it lies in.")
    admin1: str | None = Field(None, description="GeoNames admin1 code (state, region) within the country.")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    mentions: int = Field(1, ge=1, description="How often the article names it.")


class EntityNames(BaseModel):
    """An article's entity names as the recognizer found them, before analysts' corrections: what an update in
    place or an undo computes the article's entity fields from again."""

    names: dict[str, list[str]] = Field(default_factory=dict, description="Names by kind (persons, ...).")
    aliases: dict[str, list[str]] = Field(default_factory=dict, description="Spellings merged away, by kind.")


class Article(BaseModel):
    """The one document every backend indexes."""

    model_config = ConfigDict(extra="ignore")

    id: str
    id_version: int
    url: str
    canonical_url: str | None = None
    final_url: str | None = None
    domain: str
    source_name: str | None = None
    site_name: str | None = None
    feed_url: str | None = None
    feed_title: str | None = None
    collections: list[str] = Field(default_factory=list)
    title: str
    body: str
    summary: str | None = None
    authors: list[str] = Field(default_factory=list)
    language: str | None = None
    published_at: datetime
    date_source: DateSource
    fetched_at: datetime
    indexed_at: datetime | None = None
    tags: list[str] = Field(default_factory=list)
    image_url: str | None = None
    word_count: int = 0
    body_source: BodySource = BodySource.PAGE
    extraction_error: str | None = None
    persons: list[str] = Field(default_factory=list)
    organizations: list[str] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    events: list[str] = Field(default_factory=list)
    entity_aliases: list[str] = Field(
        default_factory=list, description="Surface forms merged into a canonical entity, kept searchable."
    )
    aliases_by_kind: dict[str, list[str]] = Field(
        default_factory=dict, description="entity_aliases by kind: a field query on a kind (persons:X) matches them."
    )
    extracted_entities: EntityNames | None = Field(
        None, description="The entity names before analysts' corrections (None: indexed before they existed)."
    )
    countries: list[str] = Field(default_factory=list, description="ISO 3166-1 alpha-2 codes of the countries "
                                                                  "the article's places lie in, most named first.")
    places: list[Place] = Field(default_factory=list, description="Location mentions resolved to GeoNames places.")
    cluster_id: str | None = Field(None, description="Id of the first article of its near-duplicate cluster.")
    duplicates: int = Field(0, ge=0, description="Other articles in the same near-duplicate cluster.")
    pipeline_version: int = PIPELINE_VERSION
    archive_path: str | None = Field(None, description="WARC file holding the raw page, relative to the archive "
                                                       "directory (None: the page was not archived).")
    archive_offset: int | None = Field(None, ge=0, description="Byte offset of the page's record in archive_path.")
    archive_length: int | None = Field(None, gt=0, description="Bytes of the page's record as stored (gzip).")
