"""The plane geometry behind lookups and the overlap check."""

from __future__ import annotations

from district.geometry import Ring, centroid, contains, is_simple, overlap, signed_area


def square(x0: float, y0: float, x1: float, y1: float) -> Ring:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))


A = square(0, 0, 1, 1)


def test_area_and_centroid() -> None:
    assert signed_area(A) == 1
    assert centroid(A) == (0.5, 0.5)


def test_contains() -> None:
    assert contains(A, (0.5, 0.5))
    assert not contains(A, (1.5, 0.5))


def test_neighbours_sharing_an_edge_or_corner_do_not_overlap() -> None:
    assert not overlap(A, square(1, 0, 2, 1))
    assert not overlap(A, square(1, 1, 2, 2))
    assert not overlap(A, square(3, 3, 4, 4))


def test_overlaps() -> None:
    assert overlap(A, square(0.5, 0.5, 1.5, 1.5))  # crossing edges
    assert overlap(A, square(0.25, 0.25, 0.75, 0.75))  # contained
    assert overlap(A, A)  # identical
    # Collinear edges, no proper crossing, no vertex strictly inside.
    assert overlap(A, square(0.5, 0, 1.5, 1))
    assert overlap(A, square(0, 0, 1, 2))


def test_is_simple() -> None:
    assert is_simple(A)
    assert not is_simple(((0, 0), (1, 1), (1, 0), (0, 1), (0, 0)))  # bow tie
    assert not is_simple(((0, 0), (1, 0), (1, 0), (0, 1), (0, 0)))  # repeated vertex
