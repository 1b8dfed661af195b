"""Geoparsing: location mentions resolved to GeoNames places and ISO 3166-1 countries, offline."""

__all__: list[str] = []
