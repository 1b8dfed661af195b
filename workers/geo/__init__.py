"""Geoparsing: location mentions resolved to GeoNames places and ISO 3166-1 countries, offline."""
