"""The extract stage's places: an article's countries and GeoNames places from its text and entities.

A language with an NER model gives its location names and NORP groups (demonyms) to the geoparser; any
other language is matched against the gazetteer's names in the text itself (:mod:`workers.geo`).
"""

from __future__ import annotations

from workers.core.models import Article
from workers.entities.recognizer import EntityRecognizer
from workers.geo.parse import geoparser_for
from workers.settings import Settings

__all__ = ["with_places"]


def with_places(article: Article, settings: Settings, ner: EntityRecognizer | None) -> Article:
    """The article with ``countries`` and ``places`` filled (empty when geoparsing is off)."""
    if not settings.geo_enabled:
        return article
    tagged = ner is not None and ner.supports(article.language)
    found = geoparser_for(settings).parse(
        f"{article.title}\n\n{article.body}", article.language,
        locations=article.locations if tagged else None, groups=article.groups if tagged else None,
        domain=article.domain,
    )
    return article.model_copy(update={"countries": found.countries, "places": found.places})
