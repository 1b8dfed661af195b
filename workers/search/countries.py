"""Country codes as people write them: ``countries:IQ``, ``countries:iraq`` and ``countries:"United Kingdom"``
all mean ISO 3166-1 alpha-2 ``IQ`` or ``GB``, the codes the index holds; shown back by their pycountry name."""

from __future__ import annotations

from functools import cache

import pycountry

__all__ = ["country_code", "country_name"]


@cache
def country_code(text: str) -> str:
    """The alpha-2 code of a code (alpha-2 or alpha-3, any case) or a country's English name; a value that is
    none of these comes back unchanged (upper-cased when it is two letters), so it simply matches nothing."""
    value = " ".join(text.split())
    try:
        # lookup knows alpha-2, alpha-3, numeric codes, and the common, official and short names.
        return str(pycountry.countries.lookup(value).alpha_2)
    except LookupError:
        pass
    # "Russia" for "Russian Federation": a start of exactly one country's name stands for it.
    start = value.casefold()
    found = {c.alpha_2 for c in pycountry.countries if len(start) > 3 and any(
        str(name).casefold().startswith(start) for name in _names(c))}
    if len(found) == 1:
        return str(found.pop())
    return value.upper() if len(value) == 2 else value


def _names(country: object) -> list[str]:
    return [getattr(country, attr) for attr in ("name", "official_name", "common_name") if hasattr(country, attr)]


@cache
def country_name(code: str) -> str:
    """The common English name of an alpha-2 code ("IR" → "Iran"); the code itself when it is not one."""
    country = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)
