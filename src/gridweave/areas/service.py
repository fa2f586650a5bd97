"""Load and query the area tree, and place points in grids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridweave.areas.models import Area
from gridweave.core.errors import ExtractError

LEVELS = ("city", "district", "street", "community", "grid")
CODE_LENGTH = {"city": 6, "district": 6, "street": 9, "community": 12, "grid": 15}


def load_areas(session: Session, *, path: Path) -> dict[str, int]:
    """Load (or update) the area tree from a GeoJSON FeatureCollection; returns counts by level."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ExtractError(f"{path}: not a readable GeoJSON file ({exc})") from None
    features = data.get("features") if isinstance(data, dict) else None
    if not features:
        raise ExtractError(f"{path}: no 'features' in the GeoJSON FeatureCollection")
    rows: list[dict[str, Any]] = []
    for i, feature in enumerate(features):
        props = feature.get("properties") or {}
        where = f"{path}: feature {i}"
        level, code = props.get("level"), str(props.get("code", ""))
        if level not in LEVELS:
            raise ExtractError(f"{where}: level {level!r} is not one of {', '.join(LEVELS)}")
        if not code.isdigit() or len(code) != CODE_LENGTH[level]:
            raise ExtractError(
                f"{where}: {level} code {code!r} must be {CODE_LENGTH[level]} digits"
            )
        parent = props.get("parent_code")
        rows.append(
            {
                "code": code,
                "name": props.get("name") or code,
                "level": level,
                "parent_code": str(parent) if parent else None,
                "depth": LEVELS.index(level),
                "geometry": feature.get("geometry"),
            }
        )
    rows.sort(key=lambda r: r["depth"])  # parents before children
    known = {r["code"] for r in rows} | set(session.scalars(select(Area.code)))
    for r in rows:
        if r["parent_code"] and r["parent_code"] not in known:
            raise ExtractError(f"{path}: area {r['code']} names unknown parent {r['parent_code']}")
        session.merge(Area(**r))
    session.flush()
    return dict(session.execute(select(Area.level, func.count()).group_by(Area.level)).all())


class GridLocator:
    """Finds the grid that contains each point (vectorised over columns of lon/lat)."""

    def __init__(self, grids: list[tuple[str, dict[str, Any]]]) -> None:
        # shapely (and numpy with it) is imported only where points are placed: ~0.1 s of every
        # command's start otherwise
        from shapely import STRtree
        from shapely.geometry import shape

        self.codes = [code for code, _ in grids]
        self.tree = STRtree([shape(geometry) for _, geometry in grids])

    def __call__(self, lon: pl.Series, lat: pl.Series) -> pl.Series:
        x = lon.cast(pl.Float64, strict=False).to_numpy()
        y = lat.cast(pl.Float64, strict=False).to_numpy()
        result: list[str | None] = [None] * len(x)
        if self.codes and len(x):
            from shapely import points

            point_idx, grid_idx = self.tree.query(points(x, y), predicate="within")
            for p, g in zip(point_idx.tolist(), grid_idx.tolist(), strict=True):
                if result[p] is None:
                    result[p] = self.codes[g]
        return pl.Series(result, dtype=pl.String)


def grid_locator(session: Session) -> GridLocator | None:
    """A locator over every grid polygon in the area tree; None when no grids are loaded."""
    grids = [
        (code, geometry)
        for code, geometry in session.execute(
            select(Area.code, Area.geometry).where(Area.level == "grid")
        )
        if geometry
    ]
    return GridLocator(grids) if grids else None


def grid_codes(session: Session) -> frozenset[str]:
    """The codes of every grid in the area tree."""
    return frozenset(session.scalars(select(Area.code).where(Area.level == "grid")))
