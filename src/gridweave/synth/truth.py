"""The ground truth written beside the extracts, so tests can score linkage and golden records."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from gridweave.synth.population import City

RECORD_COLUMNS = ("source", "record_key", "entity_type", "entity_id")
PEOPLE_COLUMNS = (
    "person_id", "citizen_id", "name", "sex", "birth_date", "ethnicity", "phone", "landline",
    "hukou_address", "residence_address", "room_id", "status", "death_date", "marital_status",
    "household_id", "household_number", "relation_to_head", "registered", "employer_name",
    "employer_credit_code", "insurance_months", "allowance_certificate", "allowance_amount",
    "allowance_since", "school", "grade", "guardian_id",
)  # fmt: skip
HOUSEHOLD_COLUMNS = (
    "household_id", "household_number", "registered", "size", "room_id", "address",
    "hukou_address", "household_type", "head_id", "dibao", "allowance_certificate",
)  # fmt: skip
BUILDING_COLUMNS = (
    "building_id", "building_code", "name", "address", "floors", "building_use", "longitude",
    "latitude", "grid_code", "community", "street",
)  # fmt: skip
ROOM_COLUMNS = (
    "room_id", "room_code", "building_id", "building_code", "address", "room_number", "floor",
    "room_use", "floor_area", "rent", "lease_start", "lease_end", "landlord_id",
)  # fmt: skip
ENTITY_COLUMNS = (
    "legal_entity_id", "credit_code", "name", "entity_type", "legal_representative",
    "representative_id", "registered_address", "operating_address", "status",
    "established_date", "phone",
)  # fmt: skip
COMPONENT_COLUMNS = (
    "component_id", "component_code", "class_code", "name", "category", "status", "owner",
    "longitude", "latitude", "grid_code",
)  # fmt: skip


def twins(city: City) -> pl.DataFrame:
    """Pairs of twins: same surname, birth date and household; different names and ids."""
    p = city.people
    t = p.filter(pl.col("twin_of") >= 0)
    return pl.DataFrame(
        {"person_id_a": p["person_id"].gather(t["twin_of"]), "person_id_b": t["person_id"]}
    )


def namesakes(city: City) -> pl.DataFrame:
    """Pairs of different people with the same name and the same birth date."""
    p = city.people.select("person", "person_id", "name", "birth_date")
    shared = p.filter(pl.len().over("name", "birth_date") > 1)
    pairs = shared.join(shared, on=["name", "birth_date"], suffix="_b").filter(
        pl.col("person") < pl.col("person_b")
    )
    return pairs.select(
        pl.col("person_id").alias("person_id_a"), "person_id_b", "name", "birth_date"
    ).sort("person_id_a", "person_id_b")


def _person_ids(city: City, index: pl.Series) -> pl.Series:
    """Person ids at internal indexes; null where the index is null or negative."""
    valid = index.fill_null(-1) >= 0
    ids = city.people["person_id"].gather(index.fill_null(0).clip(lower_bound=0))
    return pl.select(pl.when(valid).then(ids)).to_series()


def _with_branches(entities: pl.DataFrame, records: list[pl.DataFrame]) -> pl.DataFrame:
    """The legal entities, and the branches only an extract knows (the tax register's): id
    "<head office id>-<organisation code>", with a `head_office_id` column (null for the rest)."""
    ids = (
        pl.concat(records).filter(pl.col("entity_type") == "legal_entity")["entity_id"]
        if records
        else pl.Series([], dtype=pl.String)
    )
    branches = (
        ids.filter(~ids.is_in(entities["legal_entity_id"].implode()))
        .unique()
        .sort()
        .to_frame("legal_entity_id")
        .with_columns(pl.col("legal_entity_id").str.split("-").list.first().alias("head_office_id"))
    )
    return pl.concat(
        [entities.with_columns(pl.lit(None, pl.String).alias("head_office_id")), branches],
        how="diagonal_relaxed",
    )


def write_truth(city: City, folder: Path, records: list[pl.DataFrame]) -> dict[str, int]:
    """Write every truth table into `folder`; return the row count of each."""
    folder.mkdir(parents=True, exist_ok=True)
    empty = pl.DataFrame(schema=dict.fromkeys(RECORD_COLUMNS, pl.String))
    tables = {
        "records": pl.concat(records) if records else empty,
        "people": city.people.with_columns(
            _person_ids(city, city.people["guardian"]).alias("guardian_id")
        ).select(PEOPLE_COLUMNS),
        "households": city.households.with_columns(
            _person_ids(city, city.households["head"]).alias("head_id")
        ).select(HOUSEHOLD_COLUMNS),
        "buildings": city.buildings.select(BUILDING_COLUMNS),
        "rooms": city.rooms.with_columns(
            _person_ids(city, city.rooms["landlord"]).alias("landlord_id")
        ).select(ROOM_COLUMNS),
        "legal_entities": _with_branches(city.entities.select(ENTITY_COLUMNS), records),
        "components": city.components.select(COMPONENT_COLUMNS),
        "twins": twins(city),
        "namesakes": namesakes(city),
    }
    for name, frame in tables.items():
        frame.write_csv(folder / f"{name}.csv")
    return {name: frame.height for name, frame in tables.items()}
