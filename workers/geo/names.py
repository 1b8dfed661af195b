"""How place names are compared, and the names of countries in many languages (from ``pycountry``).

Two spellings are one name when they fold alike: accents, case, dots and hyphens aside ("São Paulo",
"SAO PAULO", "Sao-Paulo"; "U.S." and "US").
"""

from __future__ import annotations

import gettext
import os
import re
import unicodedata

import pycountry

__all__ = ["COUNTRY_SHORT_FORMS", "country_names", "fold"]

_DROPPED = re.compile(r"[.\u00b7]")
_SPACED = re.compile(r"[\s\-\u2010-\u2015_/]+")
# Accents and the other combining marks NFKD splits off; folding both sides alike is all that matters.
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u02bc": "'"})

# Short forms the ISO names lack, as newsrooms write them; data about countries, not about any site.
COUNTRY_SHORT_FORMS: dict[str, tuple[str, ...]] = {
    "US": ("US", "USA", "U.S.", "U.S.A.", "America", "the United States", "United States of America",
           "EE.UU.", "EEUU", "EE. UU.", "ABD", "Amerika", "États-Unis", "Etats-Unis", "Stati Uniti"),
    "GB": ("UK", "U.K.", "Britain", "Great Britain", "the United Kingdom", "England", "Scotland", "Wales",
           "Northern Ireland", "Reino Unido", "Royaume-Uni", "Großbritannien", "Grossbritannien", "İngiltere",
           "Birleşik Krallık", "Regno Unito"),
    "AE": ("UAE", "U.A.E.", "Emirates", "BAE"),
    "RU": ("Russia",),
    "KR": ("South Korea", "Südkorea", "Corea del Sur", "Corée du Sud", "Güney Kore"),
    "KP": ("North Korea", "Nordkorea", "Corea del Norte", "Corée du Nord", "Kuzey Kore"),
    "CZ": ("Czech Republic", "Czechia", "Tschechien"),
    "NL": ("Holland", "the Netherlands"),
    "VA": ("the Vatican", "Vatican"),
    "CD": ("DR Congo", "DRC", "Democratic Republic of the Congo"),
    "CG": ("Republic of the Congo",),
    "CI": ("Ivory Coast", "Côte d'Ivoire", "Cote d'Ivoire", "Elfenbeinküste"),
    "TW": ("Taiwan",),
    "PS": ("Palestine", "Palestinian Territories", "Gaza", "Gaza Strip", "West Bank", "Gazastreifen", "Gazze"),
    "TR": ("Turkey", "Türkiye", "Turkiye"),
    "MK": ("North Macedonia", "Macedonia"),
    "SY": ("Syria",),
    "IR": ("Iran",),
    "VE": ("Venezuela",),
    "BO": ("Bolivia",),
    "TZ": ("Tanzania",),
    "LA": ("Laos",),
    "VN": ("Vietnam", "Viet Nam"),
    "MD": ("Moldova",),
}

# pycountry's own forms add a qualifier after a comma or in brackets ("Iran, Islamic Republic of",
# "Bolivia (Plurinational State of)"): the part before it is how people write the name.
_QUALIFIED = re.compile(r"\s*(?:,|\().*$")


def fold(name: str) -> str:
    """The comparison form of a place name: no accents, case, dots or hyphens; one space between words."""
    text = name.casefold()
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text.translate(_APOSTROPHES)))
    text = _DROPPED.sub("", text)
    text = text.removeprefix("the ")
    return " ".join(_SPACED.split(text)).strip(" '")


def _english_forms(country: object) -> list[str]:
    names = [getattr(country, attr, None) for attr in ("name", "common_name", "official_name")]
    forms = []
    for name in names:
        if name:
            forms.append(name)
            short = _QUALIFIED.sub("", name)
            if short and short != name:
                forms.append(short)
    return forms


def country_names() -> dict[str, dict[str, set[str]]]:
    """{alpha-2: {name: languages}} for every country: ISO's English names and short forms (``en``) and
    each of pycountry's translations (its language code)."""
    found: dict[str, dict[str, set[str]]] = {}
    translations = _translations()
    for country in pycountry.countries:
        code = country.alpha_2
        names = found.setdefault(code, {})
        english = _english_forms(country)
        for name in english:
            names.setdefault(name, set()).add("en")
        for language, translation in translations.items():
            for name in english:
                local = translation.gettext(name)
                if local != name or language == "en":
                    for form in {local, _QUALIFIED.sub("", local)}:
                        if form:
                            names.setdefault(form, set()).add(language)
    for code, forms in COUNTRY_SHORT_FORMS.items():
        for form in forms:
            found.setdefault(code, {}).setdefault(form, set()).add("*")
    return found


def _translations() -> dict[str, gettext.NullTranslations]:
    out: dict[str, gettext.NullTranslations] = {}
    for locale in sorted(os.listdir(pycountry.LOCALES_DIR)):
        try:
            translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale])
        except OSError:
            continue
        out[locale.split("_")[0].split("@")[0].lower()] = translation
    return out
