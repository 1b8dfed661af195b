"""Where a query may ask articles to be: within a distance of a point, or inside a box.

Both backends take these. Elasticsearch has ``geo_distance`` and ``geo_bounding_box`` on the ``coordinates``
geo_point field; Tantivy has no geo type, so every place's point is indexed as grid-cell terms at several
sizes (:func:`cell_terms`). A filter is covered by the cells of one size (:func:`cover`): a cell wholly inside
the area matches as it is, and only the documents found in the cells across its edge are checked exactly
(:meth:`Near.contains`, great-circle distance on the same sphere Elasticsearch uses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias

from workers.core.errors import QuerySyntaxError

__all__ = [
    "ANY_POINT", "CELL_SIZES", "EARTH_RADIUS_KM", "MAX_COVER_CELLS", "Area", "BBox", "Cover", "Near", "cell_terms",
    "cover", "distance_km",
]  # fmt: skip

EARTH_RADIUS_KM = 6371.0088
"""The mean radius Elasticsearch's arc distance uses, so both backends draw the same circle."""

CELL_SIZES = (0.05, 0.25, 1.0, 5.0, 30.0)
"""Grid cell sides in degrees (about 5.5, 28, 111, 555 and 3,300 km of latitude): five terms per point."""

ANY_POINT = "any"
"""The cell term every document with a point has: the candidates of an area too large to cover."""

MAX_COVER_CELLS = 400
"""A filter uses the finest cells that cover it in at most this many terms (edge cells checked exactly)."""


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance by the haversine formula."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _check_point(lat: float, lon: float, what: str) -> None:
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise QuerySyntaxError(f"{what}: latitude {lat} is not between -90 and 90")
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise QuerySyntaxError(f"{what}: longitude {lon} is not between -180 and 180")


@dataclass(frozen=True, slots=True)
class Near:
    """Articles with a place within ``km`` kilometres of (lat, lon)."""

    lat: float
    lon: float
    km: float

    def __post_init__(self) -> None:
        _check_point(self.lat, self.lon, "near")
        if not (math.isfinite(self.km) and self.km > 0):
            raise QuerySyntaxError(f"near: the distance must be a positive number of km, not {self.km}")

    def contains(self, lat: float, lon: float) -> bool:
        return distance_km(self.lat, self.lon, lat, lon) <= self.km

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(south, north, west, east) around the circle (west > east when it crosses the antimeridian);
        None when the circle takes in a pole or half the earth, so every longitude is in reach."""
        radius = self.km / EARTH_RADIUS_KM
        if radius >= math.pi / 2:
            return None
        south, north = self.lat - math.degrees(radius), self.lat + math.degrees(radius)
        if south <= -90 or north >= 90:
            return None
        # The widest longitude of a spherical cap is reached off its centre's parallel: asin(sin r / cos lat).
        dlon = math.degrees(math.asin(min(1.0, math.sin(radius) / math.cos(math.radians(self.lat)))))
        return south, north, _wrap(self.lon - dlon), _wrap(self.lon + dlon)

    def text(self) -> str:
        return f"{self.lat:g},{self.lon:g},{self.km:g}"


@dataclass(frozen=True, slots=True)
class BBox:
    """Articles with a place inside the box from (south, west) to (north, east); west > east crosses the
    antimeridian."""

    south: float
    west: float
    north: float
    east: float

    def __post_init__(self) -> None:
        _check_point(self.south, self.west, "bbox")
        _check_point(self.north, self.east, "bbox")
        if self.south > self.north:
            raise QuerySyntaxError(f"bbox: south {self.south} is north of north {self.north}")

    def contains(self, lat: float, lon: float) -> bool:
        if not self.south <= lat <= self.north:
            return False
        return self.west <= lon <= self.east if self.west <= self.east else lon >= self.west or lon <= self.east

    def bounds(self) -> tuple[float, float, float, float] | None:
        return self.south, self.north, self.west, self.east

    def text(self) -> str:
        return f"{self.south:g},{self.west:g},{self.north:g},{self.east:g}"


Area: TypeAlias = Near | BBox


def _wrap(lon: float) -> float:
    return (lon + 180) % 360 - 180 if not -180 <= lon <= 180 else lon


def _cell(size: float, lat: float, lon: float) -> tuple[int, int]:
    rows, cols = round(180 / size), round(360 / size)
    # The north pole and the antimeridian's east side fall in the last row and column.
    return min(int((lat + 90) // size), rows - 1), min(int((lon + 180) // size), cols - 1)


def _term(level: int, row: int, col: int) -> str:
    return f"{level}:{row}:{col}"


def cell_terms(lat: float, lon: float) -> list[str]:
    """The grid cells, one per size, that a point lies in, and :data:`ANY_POINT`."""
    return [ANY_POINT, *(_term(level, *_cell(size, lat, lon)) for level, size in enumerate(CELL_SIZES))]


@dataclass(frozen=True, slots=True)
class Cover:
    """The cells of one size over an area: ``inside`` wholly in it, ``edge`` partly (check each point)."""

    inside: tuple[str, ...]
    edge: tuple[str, ...]


def cover(area: Area) -> Cover | None:
    """The finest cover of ``area`` in at most MAX_COVER_CELLS cells; None when the area is so large that only
    the exact check makes sense (every point is then checked)."""
    bounds = area.bounds()
    if bounds is None:
        return None
    south, north, west, east = bounds
    for level, size in enumerate(CELL_SIZES):
        (row0, col0), (row1, col1) = _cell(size, south, west), _cell(size, north, east)
        cols_total = round(360 / size)
        cols = [c % cols_total for c in range(col0, col1 + 1 if col1 >= col0 else col1 + cols_total + 1)]
        if (row1 - row0 + 1) * len(cols) > MAX_COVER_CELLS:
            continue
        inside, edge = [], []
        for row in range(row0, row1 + 1):
            for col in cols:
                s, w = row * size - 90, col * size - 180
                # A lat/lon cell's farthest point from anywhere is one of its corners (distance along each of
                # its edges has no interior maximum), so four corners inside mean the whole cell is.
                corners = ((s, w), (s, w + size), (s + size, w), (s + size, w + size))
                whole = all(area.contains(min(lat, 90.0), _wrap(lon)) for lat, lon in corners)
                (inside if whole else edge).append(_term(level, row, col))
        return Cover(tuple(inside), tuple(edge))
    return None
