"""The documents of the conformance suite: every facet filled somewhere, one near-duplicate cluster."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from workers.core.ids import document_id
from workers.core.models import Article, DateSource, Place

FETCHED = datetime(2024, 2, 1, 9, 30, tzinfo=UTC)


# GeoNames ids and points of the corpus' places (coordinates as GeoNames gives them).
BAGHDAD = Place(name="Baghdad", geonames_id=98182, country="IQ", admin1="07", lat=33.34058, lon=44.40088, mentions=3)
TEHRAN = Place(name="Tehran", geonames_id=112931, country="IR", admin1="26", lat=35.69439, lon=51.42151)
WASHINGTON = Place(name="Washington", geonames_id=4140963, country="US", admin1="DC", lat=38.89511, lon=-77.03637)
CAIRO = Place(name="Cairo", geonames_id=360630, country="EG", admin1="11", lat=30.06263, lon=31.24967, mentions=2)
LONDON = Place(name="London", geonames_id=2643743, country="GB", admin1="ENG", lat=51.50853, lon=-0.12574)
PARIS = Place(name="Paris", geonames_id=2988507, country="FR", admin1="11", lat=48.85341, lon=2.3488)
ANKARA = Place(name="Ankara", geonames_id=323786, country="TR", admin1="68", lat=39.91987, lon=32.85427)


def day(d: int) -> datetime:
    return datetime(2024, 1, d, 12, 0, tzinfo=UTC)


def article(key: str, *, title: str, body: str, published_at: datetime, domain: str, **extra: Any) -> Article:
    url = f"https://{domain}/news/{key}"
    fields: dict[str, Any] = {
        "id": document_id(url), "id_version": 1, "url": url, "domain": domain, "title": title, "body": body,
        "published_at": published_at, "date_source": DateSource.PAGE, "fetched_at": FETCHED, "language": "en",
    }
    fields.update(extra)
    return Article(**fields)


_A1 = article(
    "a1", title="Rocket attack on Baghdad base", domain="example.com", published_at=day(10),
    body="Militants fired rockets at the base near Baghdad. The attack caused heavy damage.",
    summary="Rockets hit a base.", persons=["Qassem Soleimani"], organizations=["Kataib Hezbollah"],
    locations=["Baghdad", "Iraq"], groups=["Iraqis"], events=["Baghdad Attack"], source_name="Example News",
    authors=["Jane Roe"], tags=["conflict"], collections=["World"],
    countries=["IQ", "IR", "US"], places=[BAGHDAD, TEHRAN, WASHINGTON],
)
ARTICLES: dict[str, Article] = {
    "a1": _A1,
    "a2": article(
        "a2", title="Ceasefire talks in Cairo", domain="news.org", published_at=day(12),
        body="Negotiators met in Cairo to discuss a ceasefire. The talks continued late into the night.",
        organizations=["Hamas"], locations=["Cairo", "Egypt"], groups=["Egyptians"], source_name="News Org",
        authors=["John Doe"], tags=["diplomacy"], collections=["World", "Middle East"],
        countries=["EG"], places=[CAIRO],
    ),
    "a3": article(
        "a3", title="Football season opens", domain="sport.co.uk", published_at=day(5),
        body="The sports league opened its season with a football match in London.",
        locations=["London"], tags=["sports"], source_name="Sport Daily", collections=["Sport"],
        countries=["GB"], places=[LONDON],
    ),
    "a4": article(
        "a4", title="Drone strike reported", domain="news.org", published_at=day(15),
        body="A drone strike was reported near Baghdad airport. Officials said the airport was attacked twice.",
        locations=["Baghdad"], source_name="News Org", events=["Airport Strike"],
        countries=["IQ"], places=[BAGHDAD],
    ),
    "a5": article(
        "a5", title="Attaque à Paris", domain="lemonde.fr", published_at=day(8), language="fr",
        body="Une attaque a eu lieu à Paris hier soir.", locations=["Paris"], countries=["FR"], places=[PARIS],
    ),
    "a6": article(
        "a6", title="Market report", domain="example.com", published_at=day(20),
        body="Stocks rose sharply as investors bought shares.", organizations=["Federal Reserve"],
    ),
    "a7": article(
        "a7", title="Earthquake hits Turkey", domain="quake.net", published_at=day(3),
        body="The earthquake destroyed buildings across the region.", locations=["Turkey"],
        countries=["TR"], places=[ANKARA],
    ),
    "a8": article(
        "a8", title="Weekly roundup", domain="example.com", published_at=day(25),
        body="News of the week, from the markets to the elections, with a short note on an earthquake "
             "that was felt far away, and the usual letters from our readers about the weather and trains.",
    ),
    # The wire copy of a1: same cluster.
    "a9": article(
        "a9", title="Rockets hit Baghdad base again", domain="wire.com", published_at=day(11),
        body="Rockets were fired at a base near Baghdad, officials said.", locations=["Baghdad"],
        cluster_id=_A1.id, duplicates=1,
    ),
}
ID = {key: a.id for key, a in ARTICLES.items()}
KEY = {a.id: key for key, a in ARTICLES.items()}
BY_DATE_DESC = ["a8", "a6", "a4", "a2", "a9", "a1", "a5", "a3", "a7"]
