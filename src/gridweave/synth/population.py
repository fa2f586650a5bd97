"""The whole true city in one object: areas, buildings, rooms, households, people, entities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from gridweave.synth import buildings as bld
from gridweave.synth import pools
from gridweave.synth.areas import Areas, build_areas
from gridweave.synth.common import REFERENCE_DAY, ids, pick, stream, unique_numbers, zipf_weights
from gridweave.synth.organisations import build_components, build_entities
from gridweave.synth.people import build_people
from gridweave.synth.spelling import address_tails

DIBAO_SHARE = 0.025  # of all people live in subsistence-allowance households
DIBAO_STANDARD = 1450  # yuan per person per month, the ceiling of an allowance
EMPLOYED_SHARE = 0.75  # of people aged 18–59 with social insurance through an employer
ENROLLED_SHARE = 0.97  # of children aged 6–17 in school
GRADES = (
    "一年级", "二年级", "三年级", "四年级", "五年级", "六年级",
    "七年级", "八年级", "九年级", "高一", "高二", "高三",
)  # fmt: skip
HIGH_SCHOOLS = (
    "深圳市罗湖高级中学", "深圳市翠园中学", "深圳市罗湖外语学校", "深圳市桂园中学",
    "深圳市东湖中学",
)  # fmt: skip


@dataclass(frozen=True)
class City:
    """The ground truth every extract is drawn from."""

    seed: int
    areas: Areas
    buildings: pl.DataFrame
    rooms: pl.DataFrame
    households: pl.DataFrame
    people: pl.DataFrame
    entities: pl.DataFrame
    components: pl.DataFrame


def build_city(people: int, seed: int) -> City:
    """Build the true city of `people` people; the same (people, seed) gives the same city."""
    areas = build_areas(people)
    households, persons = build_people(people, stream(seed, "people"))
    registered = households["registered"].to_numpy()
    buildings, rooms = bld.build_buildings(stream(seed, "buildings"), areas.grids, len(registered))
    buildings = buildings.with_columns(ids("B", buildings.height).alias("building_id"))
    room_of, use = bld.house_households(stream(seed, "housing"), rooms, registered)
    age = persons["age"].to_numpy()
    alive = (persons["status"] == "alive").to_numpy()
    local = persons["registered"].to_numpy()
    landlords = np.flatnonzero(alive & local & (age >= 30) & (age <= 80))
    leases = bld.rentals(stream(seed, "rentals"), rooms, use, landlords)
    rooms = _finish_rooms(rooms, buildings, use, leases)
    households = _finish_households(stream(seed, "households"), households, rooms, room_of)
    persons = _finish_people(persons, households, rooms)
    entities = build_entities(
        stream(seed, "entities"),
        people,
        np.flatnonzero(alive & (age >= 25) & (age <= 70)),
        np.flatnonzero(use == bld.SHOP),
        np.flatnonzero(use == bld.OFFICE_USE),
        persons["phone"],
    )
    entities = _finish_entities(entities, rooms, persons)
    persons = _employment(stream(seed, "employment"), persons, entities)
    persons = _schooling(stream(seed, "schooling"), persons, households, rooms)
    persons, households = _dibao(stream(seed, "dibao"), persons, households)
    components = build_components(stream(seed, "components"), areas.grids)
    components = components.with_columns(ids("C", components.height).alias("component_id"))
    return City(seed, areas, buildings, rooms, households, persons, entities, components)


def _finish_rooms(
    rooms: pl.DataFrame, buildings: pl.DataFrame, use: np.ndarray, leases: pl.DataFrame
) -> pl.DataFrame:
    b = rooms["building"].to_numpy()
    context = buildings.select(
        "building_id", "grid_code", "street", "community", "village", "road", "n", "b", "lane"
    )
    return (
        rooms.with_columns(
            ids("R", rooms.height).alias("room_id"),
            pick(bld.ROOM_USES, use).alias("room_use"),
            pl.Series("use", use),
        )
        .hstack(context.select(pl.all().gather(b)))
        .join(leases, on="room", how="left")
        .sort("room")
        .pipe(lambda r: r.hstack(address_tails(r)))
    )


def _finish_households(
    rng: np.random.Generator, households: pl.DataFrame, rooms: pl.DataFrame, room_of: np.ndarray
) -> pl.DataFrame:
    n = households.height
    registered = households["registered"].to_numpy()
    number = pl.Series(unique_numbers(rng, n, 100_000_000, 999_999_999)).cast(pl.String)
    hometown = {c: name for c, name, _ in pools.MIGRANT_BIRTHPLACES}
    hometown |= dict(pools.UYGHUR_BIRTHPLACES) | dict(pools.LOCAL_BIRTHPLACES)
    landline = pl.Series(rng.integers(20_000_000, 29_999_999, n)).cast(pl.String)
    address = rooms["address"].gather(room_of)
    return households.with_columns(
        ids("H", n).alias("household_id"),
        pl.Series("room", room_of),
        rooms["room_id"].gather(room_of).alias("room_id"),
        address.alias("address"),
        pl.when(pl.Series(registered)).then(number).alias("household_number"),
        pl.when(pl.Series(registered))
        .then(address)
        .otherwise(pl.col("home_code").replace_strict(hometown, return_dtype=pl.String))
        .alias("hukou_address"),
        pl.when(pl.Series(rng.random(n) < 0.1)).then("0755-" + landline).alias("landline"),
        pl.lit("家庭户").alias("household_type"),
    )


def _finish_people(
    persons: pl.DataFrame, households: pl.DataFrame, rooms: pl.DataFrame
) -> pl.DataFrame:
    hh = persons["household"].to_numpy()
    h = households.select(
        "household_id",
        "household_number",
        "room",
        "room_id",
        "address",
        "hukou_address",
        "landline",
    ).select(pl.all().gather(hh))
    return persons.with_columns(
        ids("P", persons.height).alias("person_id"),
        h["household_id"],
        h["household_number"],
        h["hukou_address"],
        h["landline"],
        h["room"],
        pl.when(pl.col("status") != "moved_out").then(h["room_id"]).alias("room_id"),
        pl.when(pl.col("status") != "moved_out").then(h["address"]).alias("residence_address"),
    )


def _finish_entities(
    entities: pl.DataFrame, rooms: pl.DataFrame, persons: pl.DataFrame
) -> pl.DataFrame:
    rep = entities["representative"].to_numpy()
    return entities.with_columns(
        ids("L", entities.height).alias("legal_entity_id"),
        rooms["address"].gather(entities["registered_room"]).alias("registered_address"),
        rooms["address"].gather(entities["operating_room"]).alias("operating_address"),
        persons["name"].gather(rep).alias("legal_representative"),
        persons["person_id"].gather(rep).alias("representative_id"),
        persons["citizen_id"].gather(rep).alias("representative_citizen_id"),
    )


def _employment(
    rng: np.random.Generator, persons: pl.DataFrame, entities: pl.DataFrame
) -> pl.DataFrame:
    n = persons.height
    age = persons["age"].to_numpy()
    alive = (persons["status"] == "alive").to_numpy()
    employed = np.flatnonzero(alive & (age >= 18) & (age <= 59) & (rng.random(n) < EMPLOYED_SHARE))
    firms = np.flatnonzero(
        ((entities["prefix"] == "91") & (entities["status"] == "active")).to_numpy()
    )
    # A few employers are large; most are small (Zipf over a shuffled list of firms).
    firms = rng.permutation(firms)
    w = zipf_weights(len(firms), 1.1)
    employer = firms[np.searchsorted(np.cumsum(w), rng.random(len(employed)) * w.sum())]
    months = np.minimum(rng.integers(1, (age[employed] - 16) * 12), 420)
    none_s = pl.repeat(None, n, dtype=pl.String, eager=True)
    return persons.with_columns(
        none_s.scatter(employed, entities["name"].gather(employer)).alias("employer_name"),
        none_s.scatter(employed, entities["credit_code"].gather(employer)).alias(
            "employer_credit_code"
        ),
        pl.repeat(None, n, dtype=pl.Int64, eager=True)
        .scatter(employed, months)
        .alias("insurance_months"),
    )


def _schooling(
    rng: np.random.Generator, persons: pl.DataFrame, households: pl.DataFrame, rooms: pl.DataFrame
) -> pl.DataFrame:
    n = persons.height
    age = persons["age"].to_numpy()
    rel = persons["relation_to_head"].to_numpy()
    alive = (persons["status"] == "alive").to_numpy()
    young = (rel == "child") | (rel == "grandchild")
    pupil = np.flatnonzero(
        alive & young & (age >= 6) & (age <= 17) & (rng.random(n) < ENROLLED_SHARE)
    )
    room = persons["room"].to_numpy()[pupil]
    community = rooms["community"].gather(room).str.replace("社区", "")
    street = rooms["street"].gather(room).str.replace("街道", "")
    high = pick(HIGH_SCHOOLS, rng.integers(0, len(HIGH_SCHOOLS), len(pupil)))
    a = age[pupil]
    school = pl.select(
        pl.when(pl.Series(a <= 11))
        .then("深圳市罗湖区" + community + "小学")
        .when(pl.Series(a <= 14))
        .then("深圳市罗湖区" + street + "中学")
        .otherwise(high)
    ).to_series()
    hh = persons["household"].to_numpy()[pupil]
    head = households["head"].to_numpy()[hh]
    has_spouse = rel[np.minimum(head + 1, n - 1)] == "spouse"
    spouse_ok = has_spouse & alive[np.minimum(head + 1, n - 1)]
    use_spouse = spouse_ok & ((rng.random(len(pupil)) < 0.45) | ~alive[head])
    guardian = np.where(use_spouse, head + 1, head)
    none_s = pl.repeat(None, n, dtype=pl.String, eager=True)
    return persons.with_columns(
        none_s.scatter(pupil, school).alias("school"),
        none_s.scatter(pupil, pick(GRADES, a - 6)).alias("grade"),
        pl.repeat(-1, n, dtype=pl.Int64, eager=True).scatter(pupil, guardian).alias("guardian"),
    )


def _dibao(
    rng: np.random.Generator, persons: pl.DataFrame, households: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pick the subsistence-allowance households: poorer shapes, and some with a recent death."""
    n_hh = households.height
    size = households["size"].to_numpy()
    head = households["head"].to_numpy()
    age = persons["age"].to_numpy()
    status = persons["status"].to_numpy()
    hh = persons["household"].to_numpy()
    has_dead = np.zeros(n_hh, dtype=bool)
    has_dead[hh[status == "deceased"]] = True
    w = np.ones(n_hh)
    w *= np.where(age[head] >= 60, 3.0, 1.0) * np.where(size >= 5, 2.0, 1.0)
    w *= np.where(has_dead, 3.0, 1.0) * households["registered"].to_numpy()
    # Weighted sampling without replacement: smallest exponential/weight keys win.
    key = rng.exponential(size=n_hh) / np.maximum(w, 1e-12)
    key[w == 0] = np.inf
    order = np.argsort(key, kind="stable")
    take = order[: int(np.searchsorted(np.cumsum(size[order]), DIBAO_SHARE * len(hh))) + 1]
    chosen = np.zeros(n_hh, dtype=bool)
    chosen[take] = True
    number = pl.Series(rng.integers(0, 100_000, n_hh)).cast(pl.String).str.zfill(5)
    since_day = REFERENCE_DAY - rng.integers(30, 3000, n_hh)
    year = (since_day / 365.25 + 1970).astype(int).astype(str)
    cert = "罗湖民低字" + pl.Series(year) + "第" + number + "号"
    amount = np.round(rng.uniform(0.35, 1.0, n_hh) * DIBAO_STANDARD / 10) * 10
    members = chosen[hh] & (status == "alive")
    households = households.with_columns(
        pl.Series("dibao", chosen),
        pl.when(pl.Series(chosen)).then(cert).alias("allowance_certificate"),
        pl.Series("allowance_amount", amount),
        pl.Series("allowance_since", since_day.astype(np.int32)).cast(pl.Date),
    )
    h = households.select("allowance_certificate", "allowance_amount", "allowance_since")
    h = h.select(pl.all().gather(hh))
    m = pl.Series(members)
    return (
        persons.with_columns(
            pl.when(m).then(h["allowance_certificate"]).alias("allowance_certificate"),
            pl.when(m).then(h["allowance_amount"]).alias("allowance_amount"),
            pl.when(m).then(h["allowance_since"]).alias("allowance_since"),
        ),
        households,
    )
