"""The area tree of the synthetic district: city, district, streets, communities and grids."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import polars as pl

from gridweave.synth import pools

CITY_CODE, CITY_NAME = "440300", "深圳市"
DISTRICT_CODE, DISTRICT_NAME = "440303", "罗湖区"
CITY_BOX = (113.75, 22.44, 114.62, 22.86)  # west, south, east, north
DISTRICT_BOX = (114.095, 22.535, 114.195, 22.595)
PEOPLE_PER_GRID = 500  # ≈ 200 households of 2.5 people: 100 grids for 50,000 people
GRIDS_PER_COMMUNITY = 8
COMMUNITIES_PER_STREET = 3


@dataclass(frozen=True)
class Areas:
    """Every area (one row each, with its bounding rectangle) and the grids with their context."""

    table: pl.DataFrame  # code, name, level, parent_code, west, south, east, north
    grids: pl.DataFrame  # one row per grid: code, community/street names, village, road, box


def _split(lo: float, hi: float, n: int) -> list[float]:
    # Edges are rounded once and shared by both neighbours, so rectangles tile exactly.
    return [round(lo + (hi - lo) * i / n, 6) for i in range(n + 1)]


def _community_bases(n: int) -> list[str]:
    names = [d + b if d else b for d in pools.DIRECTIONS for b in pools.COMMUNITY_BASES]
    if n > len(names):
        raise ValueError(f"at most {len(names)} communities can be named")
    return names[:n]


def build_areas(people: int) -> Areas:
    """The area tree sized for `people`: about one grid per 500 people."""
    n_grids = max(6, round(people / PEOPLE_PER_GRID))
    n_comm = max(2, round(n_grids / GRIDS_PER_COMMUNITY))
    n_streets = min(len(pools.STREETS), max(2, round(n_comm / COMMUNITIES_PER_STREET)))
    rows: list[tuple[str, str, str, str | None, float, float, float, float]] = [
        (CITY_CODE, CITY_NAME, "city", None, *CITY_BOX),
        (DISTRICT_CODE, DISTRICT_NAME, "district", CITY_CODE, *DISTRICT_BOX),
    ]
    grids: list[dict[str, object]] = []
    bases = _community_bases(n_comm)
    w, s, e, n = DISTRICT_BOX
    lon_edges = _split(w, e, n_streets)
    comm_of_street = np.array_split(np.arange(n_comm), n_streets)
    grid_of_comm = np.array_split(np.arange(n_grids), n_comm)
    for si, comms in enumerate(comm_of_street):
        street_code = f"{DISTRICT_CODE}{si + 1:03d}"
        street = pools.STREETS[si]
        sw, se = lon_edges[si], lon_edges[si + 1]
        rows.append((street_code, street, "street", DISTRICT_CODE, sw, s, se, n))
        lat_edges = _split(s, n, len(comms))
        for ci, comm in enumerate(comms):
            comm_code = f"{street_code}{ci + 1:03d}"
            base = bases[comm]
            cs, cn = lat_edges[ci], lat_edges[ci + 1]
            rows.append((comm_code, f"{base}社区", "community", street_code, sw, cs, se, cn))
            village = base + pools.VILLAGE_SUFFIXES[comm % len(pools.VILLAGE_SUFFIXES)]
            members = grid_of_comm[comm]
            bands = max(1, round(math.sqrt(len(members))))
            band_lat = _split(cs, cn, bands)
            for bi, band in enumerate(np.array_split(members, bands)):
                cell_lon = _split(sw, se, len(band))
                for k, g in enumerate(band):
                    local = int(g - members[0])
                    code = f"{comm_code}{local + 1:03d}"
                    box = (cell_lon[k], band_lat[bi], cell_lon[k + 1], band_lat[bi + 1])
                    rows.append((code, f"{base}社区第{local + 1}网格", "grid", comm_code, *box))
                    grids.append(
                        {
                            "grid": int(g),
                            "grid_code": code,
                            "street": street,
                            "community": f"{base}社区",
                            "village": village,
                            "lane": local + 1,
                            "road": pools.ROADS[int(g) % len(pools.ROADS)],
                            # Grids sharing a road get consecutive odd house numbers.
                            "house_number": 1 + 2 * (int(g) // len(pools.ROADS)) * 10,
                            "compound": pools.COMMUNITY_BASES[int(g) % len(pools.COMMUNITY_BASES)]
                            + pools.COMPOUND_SUFFIXES[int(g) % len(pools.COMPOUND_SUFFIXES)],
                            "west": box[0],
                            "south": box[1],
                            "east": box[2],
                            "north": box[3],
                        }
                    )
    table = pl.DataFrame(
        rows,
        schema=["code", "name", "level", "parent_code", "west", "south", "east", "north"],
        orient="row",
    )
    return Areas(table=table, grids=pl.DataFrame(grids).sort("grid"))


def write_geojson(areas: Areas, path: Path) -> None:
    """Write the area tree as a GeoJSON FeatureCollection of rectangles (lon/lat)."""
    features = []
    for code, name, level, parent, w, s, e, n in areas.table.iter_rows():
        ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]  # counter-clockwise, as RFC 7946 asks
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name": name, "level": level, "parent_code": parent},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    collection = {"type": "FeatureCollection", "features": features}
    path.write_bytes(orjson.dumps(collection, option=orjson.OPT_INDENT_2))
