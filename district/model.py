"""The registry's records: towns, villages, grids and departments (frozen)."""

from __future__ import annotations

from dataclasses import dataclass, field

from district import geometry
from district.geometry import Ring


@dataclass(frozen=True)
class Town:
    """A town (镇) or street (街道), e.g. XL 西岭镇."""

    code: str
    name: str

    @property
    def kind(self) -> str:
        """"街道" for a street, "镇" for a town: streets are urban, towns rural."""
        return "街道" if self.name.endswith("街道") else "镇"


@dataclass(frozen=True)
class Village:
    """A village (村) or community (社区), e.g. XL-02 石门村."""

    code: str
    name: str
    town_code: str


@dataclass(frozen=True)
class Grid:
    """A grid (网格), the unit every case ends up in, e.g. XL-02-03."""

    grid_id: str
    name: str
    town_code: str
    town_name: str
    village_code: str
    village_name: str
    ring: Ring = field(repr=False)  # (lon, lat) positions, closed, in the registry's datum

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(min_lon, min_lat, max_lon, max_lat)."""
        return geometry.bbox(self.ring)

    @property
    def centroid(self) -> tuple[float, float]:
        """Area centroid as (lat, lon)."""
        lon, lat = geometry.centroid(self.ring)
        return lat, lon

    def contains(self, lat: float, lon: float) -> bool:
        """True if the point (in the registry's datum) is in this grid."""
        x0, y0, x1, y1 = self.bbox
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            return False
        return geometry.contains(self.ring, (lon, lat))


@dataclass(frozen=True)
class Department:
    """A department (职能部门).

    ``unit`` is the bare code (``SFS`` for every 司法所); ``town_code`` is set
    for a town-level unit (``SFS-XL``) and None for a district-level one. A
    bare town-level code (``SFS`` with no town) names a lead whose town is
    not yet known; it receives nothing until triage places the case.
    """

    code: str
    name: str
    unit: str
    town_code: str | None = None
    town_level: bool = False
