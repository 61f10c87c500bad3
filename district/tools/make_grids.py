"""Generate district/data/grids.geojson, the demo district XX区 (fictional).

Run ``python -m district.tools.make_grids`` and commit the output: the
GeoJSON is the data, this script only explains where it came from. The
output is deterministic (seeded per vertex), so rerunning it gives the same
bytes, which a test checks.

Layout: one lattice of 6 × 8 cells over the district, each cell one grid.
Every lattice vertex is nudged by a seeded jitter, and neighbouring cells
share the nudged vertex, so the quads stay irregular yet tile the district
with no gap and no overlap. Towns and villages are unions of cells, drawn in
``VILLAGE_MAP`` below (north at the top).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Final

DISTRICT_NAME: Final = "XX区"
DATUM: Final = "WGS-84"
# The district's bounds (DESIGN "Places"); the lattice sits inside with a margin.
BBOX: Final = (108.20, 22.60, 108.50, 22.85)
LATTICE_WEST, LATTICE_EAST = 108.22, 108.48
LATTICE_NORTH, LATTICE_SOUTH = 22.83, 22.62
COLS, ROWS = 6, 8
JITTER: Final = 0.12  # fraction of a cell; < 0.25 keeps every quad simple and convex enough
DIGITS: Final = 6  # ~0.1 m; shared vertices round identically

TOWNS: Final = {
    "BC": "北城街道",
    "XL": "西岭镇",
    "DH": "东湖街道",
    "NJ": "南江镇",
}
# Map letter -> (village code, village name). 村 in a 镇, 社区 in a 街道.
VILLAGES: Final = {
    "a": ("BC-01", "北门社区"),
    "b": ("BC-02", "龙泉社区"),
    "c": ("BC-03", "朝阳社区"),
    "d": ("XL-01", "岭头村"),
    "e": ("XL-02", "石门村"),
    "f": ("XL-03", "黄竹村"),
    "g": ("DH-01", "湖滨社区"),
    "h": ("DH-02", "东兴社区"),
    "i": ("DH-03", "翠竹社区"),
    "j": ("NJ-01", "江口村"),
    "k": ("NJ-02", "沙坪村"),
    "l": ("NJ-03", "新圩村"),
}
# One letter per cell, row 0 is the northernmost. 北城 north, 南江 south,
# 西岭 west and 东湖 east in between; every village is 4 connected cells.
VILLAGE_MAP: Final = (
    "aaabcc",
    "abbbcc",
    "ddeggh",
    "ddeghh",
    "feegih",
    "fffiii",
    "jjjkll",
    "jkkkll",
)
NUMERALS: Final = "一二三四五六七八九十"


def _vertex(row: int, col: int) -> tuple[float, float]:
    """The nudged lattice vertex at (row, col) as (lon, lat)."""
    cell_w = (LATTICE_EAST - LATTICE_WEST) / COLS
    cell_h = (LATTICE_NORTH - LATTICE_SOUTH) / ROWS
    rng = random.Random(f"XX区/{row}/{col}")  # str seeds hash with sha512: stable across runs
    lon = LATTICE_WEST + col * cell_w + rng.uniform(-JITTER, JITTER) * cell_w
    lat = LATTICE_NORTH - row * cell_h + rng.uniform(-JITTER, JITTER) * cell_h
    return round(lon, DIGITS), round(lat, DIGITS)


def _numeral(n: int) -> str:
    """1..19 in Chinese numerals (第三网格, 第十二网格)."""
    return NUMERALS[n - 1] if n <= 10 else "十" + NUMERALS[n - 11]


def build() -> dict[str, object]:
    """The GeoJSON FeatureCollection as a dict."""
    cells: dict[str, list[tuple[int, int]]] = {}
    for row, line in enumerate(VILLAGE_MAP):
        for col, letter in enumerate(line):
            cells.setdefault(letter, []).append((row, col))
    features = []
    for letter in sorted(VILLAGES, key=lambda k: VILLAGES[k][0]):
        village_code, village_name = VILLAGES[letter]
        town_code = village_code.split("-")[0]
        town_name = TOWNS[town_code]
        # Row-major order: grids are numbered north to south, west to east.
        for number, (row, col) in enumerate(sorted(cells[letter]), start=1):
            grid_id = f"{village_code}-{number:02d}"
            # Counter-clockwise exterior ring (RFC 7946): SW, SE, NE, NW, SW.
            ring = [
                _vertex(row + 1, col),
                _vertex(row + 1, col + 1),
                _vertex(row, col + 1),
                _vertex(row, col),
            ]
            ring.append(ring[0])
            features.append(
                {
                    "type": "Feature",
                    "id": grid_id,
                    "properties": {
                        "grid_id": grid_id,
                        "name": f"{town_name}{village_name}第{_numeral(number)}网格",
                        "town_code": town_code,
                        "town_name": town_name,
                        "village_code": village_code,
                        "village_name": village_name,
                    },
                    "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
                }
            )
    return {
        "type": "FeatureCollection",
        "name": DISTRICT_NAME,
        "datum": DATUM,
        "bbox": list(BBOX),
        "generator": "district/tools/make_grids.py",
        "features": features,
    }


def render(doc: dict[str, object]) -> str:
    """Serialise with one feature per line, so diffs of the data stay readable."""
    head = {k: v for k, v in doc.items() if k != "features"}
    lines = ["{"]
    for key, value in head.items():
        lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},")
    lines.append('  "features": [')
    feats = doc["features"]
    assert isinstance(feats, list)
    rendered = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in feats]
    lines.append(",\n".join("    " + r for r in rendered))
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


DEFAULT_OUT: Final = Path(__file__).resolve().parent.parent / "data" / "grids.geojson"


def main(argv: list[str] | None = None) -> None:
    """Write the GeoJSON (to district/data/grids.geojson unless told otherwise)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.out.write_text(render(build()), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
