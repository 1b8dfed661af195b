"""Disambiguation: each mention's one place, from qualifiers, the article's other places, population,
demonyms and the source's country; then the article's places and countries, most named first.

Each candidate gets a score: how large it is (log of population), what kind it is (a country before a
region before a city of the same name), a weak prior for the source's country (its domain's TLD, then
its language), and, from the second round on, the other mentions' current choices: a place in the same
country, a city inside a region the article names (or the region around a city it names), and a country
a demonym names. A "City, Region" qualifier keeps only the candidates inside it, for every mention of
that name. Three rounds settle the choices (Paris beside Fort Worth and Texas is Paris, Texas).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from workers.core.models import Place
from workers.geo.gazetteer import Gazetteer, GeoEntry, Kind
from workers.geo.mentions import Mention
from workers.geo.names import fold

__all__ = ["Resolution", "resolve", "source_prior"]

# A country outranks a town of its name ("Mexico", "Georgia" beside Tbilisi), but a big city outranks a
# region of its name: a bare "Washington" or "New York" in the news is the city.
_KIND_BONUS = {Kind.COUNTRY: 2.0, Kind.REGION: -1.0, Kind.CITY: 0.0}
_POPULATION = 1.5  # per factor of ten inhabitants
_SAME_COUNTRY = 1.0
_NAMED_COUNTRY = 0.5  # a country named elsewhere says less about its towns than a town beside them
_CONTAINS = 1.0
_SAME_REGION = 0.5
_DEMONYM = 1.0
_TLD_PRIOR = 0.5
_LANGUAGE_PRIOR = 0.25
_ROUNDS = 3


@dataclass
class Resolution:
    """An article's places and countries, most named first."""

    places: list[Place] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)


def source_prior(gaz: Gazetteer, domain: str | None, language: str | None) -> dict[str, float]:
    """A weak preference for the countries a source is likely in: its domain's country, its language's."""
    prior: dict[str, float] = {}
    for code in gaz.speakers.get(language or "", ()):
        prior[code] = _LANGUAGE_PRIOR
    if domain and "." in domain:
        code = gaz.tlds.get("." + domain.rsplit(".", 1)[1].lower())
        if code is not None:
            prior[code] = prior.get(code, 0.0) + _TLD_PRIOR
    return prior


def resolve(mentions: list[Mention], demonyms: list[Mention], prior: dict[str, float]) -> Resolution:
    """Each mention's place, then the places (merged by GeoNames id) and the countries by weight."""
    merged = _merge(mentions)
    demonym_countries = Counter[str]()
    for d in demonyms:
        if d.demonym:
            demonym_countries[d.demonym] += d.count
    picks: list[GeoEntry | None] = [None] * len(merged)
    for round_number in range(_ROUNDS):
        picks = [_best(m, i, merged, picks, demonym_countries, prior, context=round_number > 0)
                 for i, m in enumerate(merged)]
    return _collect(merged, picks, demonyms)


def _merge(mentions: list[Mention]) -> list[Mention]:
    """One mention per name: counts from the fullest count, a qualifier's restriction for every use."""
    by_key: dict[str, Mention] = {}
    for mention in mentions:
        key = fold(mention.text)
        seen = by_key.get(key)
        if seen is None:
            by_key[key] = Mention(mention.text, mention.count, mention.first, list(mention.candidates),
                                  list(mention.within), unknown=mention.unknown)
            continue
        seen.count = max(seen.count, mention.count)
        seen.first = min(seen.first, mention.first)
        seen.unknown = seen.unknown or mention.unknown
        if mention.within or len(mention.candidates) < len(seen.candidates):
            ids = {c.geonames_id for c in mention.candidates}
            narrowed = [c for c in seen.candidates if c.geonames_id in ids]
            seen.candidates = narrowed or list(mention.candidates)
            seen.within = seen.within or list(mention.within)
    for mention in by_key.values():
        if mention.unknown:
            mention.candidates = []  # the text says it is a town the gazetteer lacks; its namesakes are not it
    return list(by_key.values())


def _best(mention: Mention, index: int, mentions: list[Mention], picks: list[GeoEntry | None],
          demonyms: Counter[str], prior: dict[str, float], *, context: bool) -> GeoEntry | None:
    if not mention.candidates:
        return None
    if len(mention.candidates) == 1:
        return mention.candidates[0]
    others = [p for j, p in enumerate(picks) if j != index and p is not None] if context else []

    def score(candidate: GeoEntry) -> float:
        value = (_KIND_BONUS[candidate.kind] + _POPULATION * math.log10(candidate.population + 10)
                 + prior.get(candidate.country, 0))
        if candidate.country in demonyms:
            value += _DEMONYM
        for other in others:
            if other.geonames_id == candidate.geonames_id:
                continue
            if other.country == candidate.country:
                value += _NAMED_COUNTRY if other.kind is Kind.COUNTRY else _SAME_COUNTRY
                if other.kind is not Kind.COUNTRY and candidate.kind is not Kind.COUNTRY and (
                        other.inside(candidate) or candidate.inside(other)):
                    value += _CONTAINS
                elif other.admin1 and other.admin1 == candidate.admin1:
                    value += _SAME_REGION
        return value

    return max(mention.candidates, key=lambda c: (score(c), c.population, -c.geonames_id))


def _collect(mentions: list[Mention], picks: list[GeoEntry | None], demonyms: list[Mention]) -> Resolution:
    counts: Counter[int] = Counter()
    first: dict[int, int] = {}
    entries: dict[int, GeoEntry] = {}
    weights: Counter[str] = Counter()
    country_first: dict[str, int] = {}
    for mention, pick in zip(mentions, picks, strict=True):
        if pick is None:
            continue
        entries[pick.geonames_id] = pick
        counts[pick.geonames_id] += mention.count
        first[pick.geonames_id] = min(first.get(pick.geonames_id, mention.first), mention.first)
        weights[pick.country] += mention.count
        country_first[pick.country] = min(country_first.get(pick.country, mention.first), mention.first)
    for d in demonyms:
        if d.demonym:
            weights[d.demonym] += d.count
            country_first[d.demonym] = min(country_first.get(d.demonym, d.first), d.first)
    order = sorted(entries, key=lambda gid: (-counts[gid], first[gid]))
    places = [Place(name=entries[gid].name, geonames_id=gid, country=entries[gid].country,
                    admin1=entries[gid].admin1, lat=entries[gid].lat, lon=entries[gid].lon, mentions=counts[gid])
              for gid in order]
    countries = sorted(weights, key=lambda code: (-weights[code], country_first[code]))
    return Resolution(places=places, countries=countries)
