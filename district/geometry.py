"""Plane geometry on small lon/lat rings, enough for the grid registry.

Grids are a few kilometres across, so treating degrees as plane coordinates
is exact enough for point-in-polygon (the question is only "which side of
this edge"), and keeps the package free of shapely/GEOS. Positions are
(lon, lat) tuples, in GeoJSON's order; rings are closed (first == last).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

Position = tuple[float, float]
Ring = tuple[Position, ...]

# Cross products of degree-sized vectors below this count as zero: shared
# vertices are bit-identical, so only rounding noise (~1e-18) lands here.
_EPS: Final = 1e-14
_EARTH_RADIUS_M: Final = 6371008.8


def _cross(o: Position, a: Position, b: Position) -> float:
    """z of (a - o) x (b - o): >0 when b is left of o→a."""
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def edges(ring: Ring) -> list[tuple[Position, Position]]:
    """The ring's edges as (start, end) pairs."""
    return [(ring[i], ring[i + 1]) for i in range(len(ring) - 1)]


def bbox(ring: Ring) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat)."""
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    return min(lons), min(lats), max(lons), max(lats)


def signed_area(ring: Ring) -> float:
    """Shoelace area in square degrees; positive for a counter-clockwise ring."""
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in edges(ring)) / 2.0


def centroid(ring: Ring) -> Position:
    """Area centroid (lon, lat) of a simple ring."""
    area = signed_area(ring)
    if area == 0:
        raise ValueError("ring has no area")
    cx = cy = 0.0
    for a, b in edges(ring):
        f = a[0] * b[1] - b[0] * a[1]
        cx += (a[0] + b[0]) * f
        cy += (a[1] + b[1]) * f
    return cx / (6.0 * area), cy / (6.0 * area)


def on_segment(p: Position, a: Position, b: Position) -> bool:
    """True if p lies on the closed segment a–b."""
    if abs(_cross(a, b, p)) > _EPS:
        return False
    return min(a[0], b[0]) - _EPS <= p[0] <= max(a[0], b[0]) + _EPS and (
        min(a[1], b[1]) - _EPS <= p[1] <= max(a[1], b[1]) + _EPS
    )


def on_boundary(p: Position, ring: Ring) -> bool:
    """True if p lies on one of the ring's edges."""
    return any(on_segment(p, a, b) for a, b in edges(ring))


def contains(ring: Ring, p: Position) -> bool:
    """Ray casting (even–odd) with the half-open rule.

    The half-open test (an edge counts when one end is strictly above the ray
    and the other is not) means a point on an edge shared by two grids is
    counted in exactly one of them, so lookups never return two grids.
    """
    x, y = p
    inside = False
    for (x1, y1), (x2, y2) in edges(ring):
        if (y1 > y) != (y2 > y):
            x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < x_cross:
                inside = not inside
    return inside


def strictly_inside(ring: Ring, p: Position) -> bool:
    """Inside and not on the boundary."""
    return contains(ring, p) and not on_boundary(p, ring)


def segments_cross(p1: Position, p2: Position, q1: Position, q2: Position) -> bool:
    """True if the segments cross at a point interior to both (touching does not count)."""
    d1 = _cross(q1, q2, p1)
    d2 = _cross(q1, q2, p2)
    d3 = _cross(p1, p2, q1)
    d4 = _cross(p1, p2, q2)
    return (
        ((d1 > _EPS and d2 < -_EPS) or (d1 < -_EPS and d2 > _EPS))
        and ((d3 > _EPS and d4 < -_EPS) or (d3 < -_EPS and d4 > _EPS))
    )


def is_simple(ring: Ring) -> bool:
    """True if no two non-adjacent edges cross or touch, and no vertex repeats."""
    if len(set(ring[:-1])) != len(ring) - 1:
        return False
    es = edges(ring)
    n = len(es)
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # first and last edge share the closing vertex
            a, b = es[i]
            c, d = es[j]
            if segments_cross(a, b, c, d) or on_segment(c, a, b) or on_segment(d, a, b):
                return False
            if on_segment(a, c, d) or on_segment(b, c, d):
                return False
    return True


def _samples(ring: Ring) -> list[Position]:
    """Points of the ring that sit inside it or on it: vertices, edge midpoints, inner points.

    Inner points are half-way from the centroid to each vertex; they are
    inside for the convex or nearly convex cells the registry holds.
    """
    cx, cy = centroid(ring)
    pts: list[Position] = list(ring[:-1])
    pts += [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) for a, b in edges(ring)]
    pts.append((cx, cy))
    pts += [((cx + v[0]) / 2, (cy + v[1]) / 2) for v in ring[:-1]]
    return pts


def overlap(a: Ring, b: Ring) -> bool:
    """True if the interiors of two simple rings overlap (sharing edges or corners is fine).

    Exact for crossings and containment; for overlaps along collinear edges it
    relies on sample points (edge midpoints, inner points), which catches
    every overlap a lattice of cells can produce.
    """
    ax0, ay0, ax1, ay1 = bbox(a)
    bx0, by0, bx1, by1 = bbox(b)
    if ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0:
        return False
    for p1, p2 in edges(a):
        for q1, q2 in edges(b):
            if segments_cross(p1, p2, q1, q2):
                return True
    if any(strictly_inside(b, p) for p in _samples(a)):
        return True
    return any(strictly_inside(a, p) for p in _samples(b))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(h))


def as_ring(coords: Sequence[Sequence[float]]) -> Ring:
    """A GeoJSON linear ring as a tuple of (lon, lat) floats."""
    return tuple((float(c[0]), float(c[1])) for c in coords)
