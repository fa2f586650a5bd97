"""The built city: buildings in each grid, the rooms inside them, and who lives where."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from gridweave.synth.common import REFERENCE_DAY, pick

VACANCY = 0.08  # residential rooms nobody lives in
OFFICE_SHARE = 0.08  # of tower buildings that are office towers
KINDS = ("highrise", "village", "office")
HIGHRISE, VILLAGE, OFFICE = 0, 1, 2
BUILDING_USE = ("商住", "城中村自建房", "办公")
ROOM_USES = ("home", "rental", "shop", "office", "vacant")
HOME, RENTAL, SHOP, OFFICE_USE, VACANT = range(5)


def _sample_buildings(
    rng: np.random.Generator, n_grids: int, target: float
) -> dict[str, np.ndarray]:
    """Buildings per grid until each grid holds about `target` residential rooms."""
    m = math.ceil(target / 20) + 6
    shape = (n_grids, m)
    village_share = rng.beta(1.3, 1.3, n_grids)[:, None]
    kind = np.where(rng.random(shape) < village_share, VILLAGE, HIGHRISE)
    kind = np.where((kind == HIGHRISE) & (rng.random(shape) < OFFICE_SHARE), OFFICE, kind)
    floors = np.select(
        [kind == VILLAGE, kind == HIGHRISE],
        [rng.integers(6, 9, shape), rng.integers(8, 21, shape)],
        rng.integers(10, 26, shape),
    )
    units = np.where(kind == HIGHRISE, rng.integers(1, 3, shape), 0)
    per_floor = np.select(
        [kind == VILLAGE, kind == HIGHRISE],
        [4, rng.integers(2, 5, shape)],
        rng.integers(4, 9, shape),
    )
    rooms = floors * per_floor * np.maximum(units, 1)
    ground = per_floor * np.maximum(units, 1)
    residential = np.where(kind == OFFICE, 0, rooms - ground)
    before = np.cumsum(residential, axis=1) - residential
    keep = before < target
    grid = np.broadcast_to(np.arange(n_grids)[:, None], shape)
    return {
        "grid": grid[keep],
        "kind": kind[keep],
        "floors": floors[keep],
        "units": units[keep],
        "per_floor": per_floor[keep],
        "rooms": rooms[keep],
        "residential": residential[keep],
    }


def build_buildings(
    rng: np.random.Generator, grids: pl.DataFrame, n_households: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(buildings, rooms) with enough residential rooms for `n_households` and some to spare."""
    n_grids = grids.height
    # Each grid overshoots its target by half a building on average (~20 rooms): aim lower.
    target = max(20.0, n_households * (1 + VACANCY) / n_grids - 20)
    b = _sample_buildings(rng, n_grids, target)
    while b["residential"].sum() < n_households:
        target *= 1.05
        b = _sample_buildings(rng, n_grids, target)
    n_b = len(b["grid"])
    g = grids.select(pl.all().gather(b["grid"]))
    first = np.r_[True, b["grid"][1:] != b["grid"][:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(n_b), 0))
    seq = np.arange(n_b) - start + 1
    tower = b["kind"] != VILLAGE
    # Towers count 1, 2, 3… within their grid's compound; village houses 1, 2, 3… along a lane.
    towers_so_far = np.cumsum(tower)
    tower_no = towers_so_far - (towers_so_far - tower)[start]
    house_no = seq - tower_no
    box = g.select("west", "south", "east", "north").to_numpy()
    u, v = rng.uniform(0.05, 0.95, n_b), rng.uniform(0.05, 0.95, n_b)
    buildings = (
        g.select("grid", "grid_code", "street", "community", "village", "lane", "road", "compound")
        .with_columns(
            pl.Series("building", np.arange(n_b)),
            pl.Series("kind", b["kind"]),
            pl.Series("floors", b["floors"]),
            pl.Series("units", b["units"]),
            pl.Series("per_floor", b["per_floor"]),
            pl.Series("rooms", b["rooms"]),
            pl.Series("seq", seq),
            pl.Series("n", np.where(tower, g["house_number"].to_numpy(), house_no)),
            pl.Series("b", np.where(tower, tower_no, 0)),
            pl.Series("longitude", np.round(box[:, 0] + u * (box[:, 2] - box[:, 0]), 6)),
            pl.Series("latitude", np.round(box[:, 1] + v * (box[:, 3] - box[:, 1]), 6)),
            pl.Series("building_use", pick(BUILDING_USE, b["kind"])),
        )
        .with_columns(
            (pl.col("grid_code") + pl.col("seq").cast(pl.String).str.zfill(4)).alias(
                "building_code"
            ),
            pl.when(pl.col("kind") == VILLAGE)
            .then(pl.format("{}{}巷{}号", "village", "lane", "n"))
            .otherwise(pl.format("{}{}栋", "compound", "b"))
            .alias("name"),
            pl.when(pl.col("kind") == VILLAGE)
            .then(pl.format("罗湖区{}{}{}巷{}号", "street", "village", "lane", "n"))
            .otherwise(pl.format("罗湖区{}{}{}号{}栋", "street", "road", "n", "b"))
            .alias("address"),
        )
    )
    return buildings, _rooms(rng, buildings)


def _rooms(rng: np.random.Generator, buildings: pl.DataFrame) -> pl.DataFrame:
    rooms_per = buildings["rooms"].to_numpy()
    bidx = np.repeat(np.arange(buildings.height), rooms_per)
    i = np.arange(len(bidx)) - np.repeat(np.cumsum(rooms_per) - rooms_per, rooms_per)
    kind = buildings["kind"].to_numpy()[bidx]
    floors = buildings["floors"].to_numpy()[bidx]
    units = buildings["units"].to_numpy()[bidx]
    k = buildings["per_floor"].to_numpy()[bidx]
    per_unit = floors * k
    unit = np.where(units > 0, i // per_unit + 1, 0)
    rem = np.where(units > 0, i % per_unit, i)
    floor = rem // k + 1
    room = rem % k + 1
    n = len(bidx)
    area = np.select(
        [kind == OFFICE, floor == 1, kind == VILLAGE],
        [rng.uniform(60, 300, n), rng.uniform(20, 90, n), rng.uniform(15, 45, n)],
        rng.uniform(55, 140, n),
    )
    use = np.where(kind == OFFICE, OFFICE_USE, np.where(floor == 1, SHOP, VACANT))
    b = buildings.select("building_code", "address", "kind", "street").to_dict(as_series=True)
    frame = pl.DataFrame(
        {
            "room": np.arange(n),
            "building": bidx,
            "building_code": b["building_code"].gather(bidx),
            "building_address": b["address"].gather(bidx),
            "kind": kind,
            "unit": unit,
            "floor": floor,
            "room_no": room,
            "index": i + 1,
            "floor_area": np.round(area, 2),
            "use": use,
        }
    )
    door = pl.format("{}{}", "floor", pl.col("room_no").cast(pl.String).str.zfill(2))
    return frame.with_columns(
        (pl.col("building_code") + pl.col("index").cast(pl.String).str.zfill(4)).alias("room_code"),
        pl.when(pl.col("unit") > 0)
        .then(pl.format("{}单元{}", "unit", door))
        .otherwise(door)
        .alias("room_number"),
    ).with_columns((pl.col("building_address") + pl.col("room_number")).alias("address"))


def house_households(
    rng: np.random.Generator,
    rooms: pl.DataFrame,
    registered: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(room of each household, use of each room): migrants lean to village rooms, rentals."""
    use = rooms["use"].to_numpy().copy()
    kind = rooms["kind"].to_numpy()
    residential = np.flatnonzero(use == VACANT)
    key = rng.random(len(residential)) + np.where(kind[residential] == VILLAGE, 0.7, 0.0)
    order = residential[np.argsort(-key, kind="stable")]
    migrants = np.flatnonzero(~registered)
    locals_ = np.flatnonzero(registered)
    room_of = np.empty(len(registered), dtype=np.int64)
    room_of[rng.permutation(migrants)] = order[: len(migrants)]
    rest = rng.permutation(order[len(migrants) :])
    room_of[rng.permutation(locals_)] = rest[: len(locals_)]
    use[room_of[migrants]] = RENTAL
    use[room_of[locals_]] = HOME
    return room_of, use


def rentals(
    rng: np.random.Generator,
    rooms: pl.DataFrame,
    use: np.ndarray,
    landlords: np.ndarray,
) -> pl.DataFrame:
    """Landlord, rent and lease of every rental room; one landlord owns a whole village house."""
    rental = np.flatnonzero(use == RENTAL)
    building = rooms["building"].to_numpy()
    kind = rooms["kind"].to_numpy()
    owner_of_building = landlords[rng.integers(0, len(landlords), building.max() + 1)]
    own = landlords[rng.integers(0, len(landlords), len(rooms))]
    landlord = np.where(kind == VILLAGE, owner_of_building[building], own)[rental]
    area = rooms["floor_area"].to_numpy()[rental]
    per_m2 = np.where(
        kind[rental] == VILLAGE, rng.uniform(30, 60, len(rental)), rng.uniform(70, 110, len(rental))
    )
    rent = np.round(area * per_m2 / 50) * 50
    start = REFERENCE_DAY - rng.integers(0, 700, len(rental))
    years = rng.integers(1, 3, len(rental))
    end = start + np.rint(years * 365.25).astype(np.int64) - 1
    return pl.DataFrame(
        {
            "room": rental,
            "landlord": landlord,
            "rent": rent,
            "lease_start": pl.Series(start.astype(np.int32)).cast(pl.Date),
            "lease_end": pl.Series(end.astype(np.int32)).cast(pl.Date),
        }
    )
