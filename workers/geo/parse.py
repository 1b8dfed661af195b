"""One article's text to its places and countries: mentions (NER's, or the gazetteer's text match), then
disambiguation. Pure and offline: the gazetteer is built once per process and nothing else is read.
"""

from __future__ import annotations

import re

from workers.geo.adjectives import adjective_mentions
from workers.geo.demonyms import demonym_country
from workers.geo.gazetteer import Gazetteer, gazetteer
from workers.geo.mentions import Mention, find_mentions, named_mentions, qualified_pairs
from workers.geo.resolve import Resolution, resolve, source_prior
from workers.settings import Settings

__all__ = ["Geoparser", "Resolution", "geoparser_for"]


class Geoparser:
    """Resolves an article's location mentions against one gazetteer."""

    def __init__(self, gaz: Gazetteer, *, text_min_population: int = 15_000) -> None:
        self.gazetteer = gaz
        self.text_min_population = text_min_population

    def parse(self, text: str, language: str | None, *, locations: list[str] | None = None,
              groups: list[str] | None = None, domain: str | None = None) -> Resolution:
        """Places and countries of a text. ``locations`` are NER's location names (None: the language has no
        NER, so the text is matched against the gazetteer); ``groups`` NER's NORP groups, read as demonyms."""
        gaz = self.gazetteer
        demonyms = self._demonyms(text, groups or [])
        if locations is None:
            mentions = find_mentions(text, language, gaz, min_population=self.text_min_population)
            demonyms += adjective_mentions(text, language, gaz)
        else:
            mentions = named_mentions(text, locations, gaz)
        for place, region in qualified_pairs(text, gaz):
            mentions += [place, region]
        return resolve(mentions, demonyms, source_prior(gaz, domain, language))

    def _demonyms(self, text: str, groups: list[str]) -> list[Mention]:
        out = []
        for group in groups:
            code = demonym_country(group)
            if code is None:
                continue
            hits = [m.start() for m in re.finditer(rf"(?<!\w){re.escape(group)}", text)]
            out.append(Mention(group, max(1, len(hits)), hits[0] if hits else len(text), [], demonym=code))
        return out


def geoparser_for(settings: Settings) -> Geoparser:
    """The geoparser the settings describe, over the process's gazetteer of that size."""
    return Geoparser(gazetteer(settings.geo_city_population, settings.geo_alternate_min_population),
                     text_min_population=settings.geo_text_min_population)
