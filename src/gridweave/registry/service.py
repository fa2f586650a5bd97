"""Operations on golden records: refresh them from source records, and explain their values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridweave.core import clock
from gridweave.core.bulk import (
    insert_frame,
    key_table,
    read_frame,
    reserve_ids,
    temp_table,
    upsert_frame,
)
from gridweave.core.crypto import Keyring, is_sealed
from gridweave.core.database import keyring_of
from gridweave.core.errors import NotFound
from gridweave.ingest.cleaning import clean_series
from gridweave.ingest.contracts import parse_contract
from gridweave.ingest.models import Batch, Source, SourceRecord
from gridweave.registry.attributes import (
    ATTRIBUTES,
    EntityType,
    encrypted_attributes,
    field_name,
    key_attribute,
)
from gridweave.registry.models import GOLDEN_TABLES, Room
from gridweave.registry.survivorship import choose_golden, chosen_records


def key_column(entity: EntityType | str) -> str:
    """The golden column keyed look-ups join on: a person's citizen id is stored encrypted, so
    people are found by its blind index; every other key is stored as it is."""
    key = key_attribute(entity).name
    return f"{key}_bidx" if key in encrypted_attributes(entity) else key


@dataclass
class RefreshCounts:
    created: int = 0
    updated: int = 0


def source_priorities(session: Session) -> pl.DataFrame:
    """(source_id, entity_type, attribute) → priority, from every registered contract."""
    rows: list[tuple[int, str, str, int]] = []
    for source_id, yaml_text in session.execute(select(Source.id, Source.contract_yaml)):
        contract = parse_contract(yaml_text)
        for ent in contract.entities:
            rows.extend(
                (source_id, ent.entity.value, name, m.priority)
                for name, m in ent.attributes.items()
            )
    frame = pl.DataFrame(
        rows,
        schema={
            "source_id": pl.Int64,
            "entity_type": pl.String,
            "attribute": pl.String,
            "priority": pl.Int64,
        },
        orient="row",
    )
    # two roles of one type in a contract (landlord, tenant) share the higher trust
    return frame.group_by(["source_id", "entity_type", "attribute"]).agg(pl.col("priority").max())


def _timestamp(now: datetime, dialect: str) -> str:
    """An aware UTC time as the dialect stores it when written as text."""
    return now.strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else now.isoformat()


def _prior_claims(
    session: Session, entity: EntityType, keys: str, on: str | None = None
) -> pl.DataFrame:
    """Every stored source record linked to the golden records of the keys in table `keys`
    (`on`: the golden column they are; the strong key unless told).

    Linked, not merely keyed: linkage adds records without the key (a health record missing
    the id) and takes away a record whose valid id belongs to someone else (decision 0003).
    Only a claim carrying the golden record's own key may claim the key attribute.
    """
    table = GOLDEN_TABLES[entity.value].__tablename__  # type: ignore[attr-defined]
    key = key_attribute(entity).name
    column = key_column(entity)
    rows = (
        session.connection()
        .exec_driver_sql(
            # CROSS JOIN: SQLite takes the (small) key table outside and searches the rest by
            # index; left to itself it scans every record of the type. PostgreSQL plans freely.
            f'SELECT r.id, r.source_id, r.observed_at, g.{column}, CAST(r."values" AS TEXT),'
            f" r.entity_key FROM {keys} k CROSS JOIN {table} g CROSS JOIN source_record r"
            f" WHERE g.{on or column} = k.k AND r.golden_id = g.id"
            f" AND r.entity_type = '{entity.value}'"
        )
        .all()
    )
    frame = _claims_frame(rows).with_columns(
        pl.Series("own_key", [r[5] for r in rows], dtype=pl.String)
    )
    attrs = list(ATTRIBUTES[entity])
    return (
        frame.with_columns(
            pl.col("values").str.json_decode(pl.Struct({a: pl.String for a in attrs}))
        )
        .unnest("values")
        .with_columns(
            # the claim's own key value (for people: its ciphertext, entity_key is the index)
            pl.when(pl.col("own_key") == pl.col("entity_key")).then(pl.col(key)).alias(key)
        )
        .drop("own_key")
    )


def _claims_frame(rows: Sequence[Any]) -> pl.DataFrame:
    # SQLite hands back timestamps as text, PostgreSQL as aware datetimes
    series = pl.Series("observed_at", [r[2] for r in rows])
    if series.dtype == pl.String:
        series = series.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_zone="UTC", time_unit="us")
    elif series.dtype != pl.Null:
        series = series.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    return pl.DataFrame(
        {
            "id": pl.Series([r[0] for r in rows], dtype=pl.Int64),
            "source_id": pl.Series([r[1] for r in rows], dtype=pl.Int64),
            "observed_at": series.cast(pl.Datetime("us", "UTC")),
            "entity_key": pl.Series([r[3] for r in rows], dtype=pl.String),
            "values": pl.Series([r[4] for r in rows], dtype=pl.String),
        }
    )


def _existing_ids(session: Session, entity: EntityType, keys: str) -> pl.DataFrame:
    """entity_key → golden id of the keys in table `keys` that already have a golden record."""
    table = GOLDEN_TABLES[entity.value].__tablename__  # type: ignore[attr-defined]
    key = key_column(entity)
    rows = (
        session.connection()
        .exec_driver_sql(f"SELECT g.{key}, g.id FROM {table} g JOIN {keys} k ON k.k = g.{key}")
        .all()
    )
    return pl.DataFrame(rows, schema={"entity_key": pl.String, "golden_id": pl.Int64}, orient="row")


def _existing_ids_of(session: Session, entity: EntityType, keys: list[str]) -> pl.DataFrame:
    """`_existing_ids` of a list of distinct keys. SQLite reads them from one JSON parameter
    and probes the golden key index with each, with no temporary table to fill first (most
    keys of a big extract are new: the probe is all the work there is)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return _existing_ids(session, entity, key_table(connection, keys))
    table = GOLDEN_TABLES[entity.value].__tablename__  # type: ignore[attr-defined]
    key = key_column(entity)
    rows = connection.exec_driver_sql(
        f"SELECT g.{key}, g.id FROM json_each(?) k CROSS JOIN {table} g ON g.{key} = k.value",
        (orjson.dumps(keys).decode(),),
    ).all()
    return pl.DataFrame(rows, schema={"entity_key": pl.String, "golden_id": pl.Int64}, orient="row")


def refresh_golden(
    session: Session,
    *,
    entity: EntityType,
    claims: pl.DataFrame,
    priorities: pl.DataFrame,
    existing: pl.DataFrame | None = None,
) -> tuple[RefreshCounts, pl.DataFrame]:
    """Rebuild the golden records of the keys in `claims` (new source records, not yet stored)
    from those claims and every stored claim about the same keys. `existing`: entity_key →
    golden id of those keys that have a golden record, where the caller knows them (else the
    key index is asked).

    Returns how many were created and updated, and entity_key → golden id.
    """
    connection = session.connection()
    stamp = _timestamp(clock.now(), connection.dialect.name)
    keys = claims["entity_key"].unique().to_list()
    if existing is None:
        existing = _existing_ids_of(session, entity, keys)
    # keys without a golden record have no stored claims linked to one (a first load: all)
    every = (
        pl.concat(
            [_prior_claims(session, entity, key_table(connection, keys)), claims],
            how="diagonal_relaxed",
        )
        if existing.height
        else claims
    )
    pri = priorities.filter(pl.col("entity_type") == entity.value).drop("entity_type")
    golden = choose_golden(every, entity, pri)
    golden = golden.join(existing, on="entity_key", how="left")
    new = golden["golden_id"].is_null()
    reserved = reserve_ids(connection, GOLDEN_TABLES[entity.value].__tablename__, int(new.sum()))  # type: ignore[attr-defined]
    golden = _fill_ids(golden, new, reserved)
    golden = golden.with_columns(pl.col("golden_id").is_in(reserved).alias("new"))
    _upsert(session, entity, golden, stamp)
    counts = RefreshCounts(created=len(reserved), updated=existing.height)
    return counts, golden.select("entity_key", "golden_id")


def rebuild_linked(
    session: Session, *, entity: EntityType, golden_ids: Sequence[int], priorities: pl.DataFrame
) -> int:
    """Rewrite the golden records `golden_ids` from every source record linked to them.

    For linkage, which links records without the strong key (a rental without its door-plate
    code, a tax record without a credit code) to a golden record: the same survivorship rules as
    an ingest, over the same claims (`_prior_claims`). Returns how many were rewritten.
    """
    if not golden_ids:
        return 0
    connection = session.connection()
    stamp = _timestamp(clock.now(), connection.dialect.name)
    name = temp_table(
        connection, "_gw_rebuild", {"k": "BIGINT PRIMARY KEY"}, ((int(g),) for g in set(golden_ids))
    )
    claims = _prior_claims(session, entity, name, on="id")
    pri = priorities.filter(pl.col("entity_type") == entity.value).drop("entity_type")
    golden = choose_golden(claims, entity, pri)
    existing = _existing_ids(session, entity, key_table(connection, golden["entity_key"]))
    golden = golden.join(existing, on="entity_key", how="inner").with_columns(
        pl.lit(False).alias("new")
    )
    _upsert(session, entity, golden, stamp)
    return golden.height


def _fill_ids(golden: pl.DataFrame, new: pl.Series, reserved: list[int]) -> pl.DataFrame:
    """Give the golden records that are new the ids reserved for them, in order."""
    fresh = golden.filter(new).with_columns(pl.Series("golden_id", reserved, dtype=pl.Int64))
    return pl.concat([golden.filter(~new), fresh])


def _upsert(session: Session, entity: EntityType, golden: pl.DataFrame, stamp: str) -> None:
    table = GOLDEN_TABLES[entity.value]
    key = key_column(entity)
    columns = set(table.__table__.columns.keys())  # type: ignore[attr-defined]
    attrs = [a for a in ATTRIBUTES[entity] if a in columns and a != key and a in golden.columns]
    frame = golden.drop(key, strict=False).rename({"entity_key": key, "golden_id": "id"})
    if "address_key" in columns and "address" in frame.columns:
        derived = clean_series("address", frame["address"]).derived
        which = "room_key" if entity == EntityType.room else "building_key"
        frame = frame.with_columns(derived[which].alias("address_key"))
        attrs.append("address_key")
    if "phone_bidx" in columns and "phone" in frame.columns:
        frame = frame.with_columns(phone_index(keyring_of(session), entity, frame["phone"]))
        attrs.append("phone_bidx")
    name = table.__tablename__  # type: ignore[attr-defined]
    connection = session.connection()
    stamps = {"created_at": stamp, "updated_at": stamp}
    names = ["id", key, *attrs, "provenance", "sources"]
    fresh = frame.filter(pl.col("new"))
    # a new record needs only the columns some claim filled; the rest stay NULL
    filled = [c for c in names if fresh[c].null_count() < fresh.height]
    insert_frame(connection, name, fresh.select(filled), stamps)
    known = frame.filter(~pl.col("new")).select(names)
    upsert_frame(connection, name, known, key, constants=stamps)


def phone_index(keyring: Keyring, entity: EntityType, sealed: pl.Series) -> pl.Series:
    """phone_bidx of encrypted phones: search by phone without storing it in clear."""
    clear = keyring.decrypt_series(sealed, field_name(entity, "phone"))
    return keyring.blind_series(clear, "phone").alias("phone_bidx")


def room_index(session: Session) -> pl.DataFrame:
    """room_key → room_code for every golden room with a parsed address."""
    return read_frame(
        session.connection(),
        select(Room.address_key, Room.room_code).where(Room.address_key.is_not(None)),
        {"room_key": pl.String, "room_code": pl.String},
    ).unique("room_key", keep="first")


def library_totals(session: Session) -> dict[str, int]:
    """How many golden records of each kind the base library holds."""
    return {
        name: session.scalar(select(func.count()).select_from(table)) or 0
        for name, table in GOLDEN_TABLES.items()
    }


@dataclass
class Claim:
    """One source's value for one attribute of a golden record."""

    attribute: str
    value: str
    raw: str | None
    source: str
    department: str
    batch_id: int
    file_name: str
    line_number: int
    observed_at: datetime
    chosen: bool


def find_golden(session: Session, entity: EntityType, ref: str) -> Any:
    """A golden record by its key (citizen id, credit code, code…) or its numeric id."""
    table = GOLDEN_TABLES[entity.value]
    key = key_attribute(entity).name
    column = key_column(entity)
    wanted = ref if column == key else keyring_of(session).blind(ref.strip().upper(), key)
    record = session.scalar(select(table).where(getattr(table, column) == wanted))
    if record is None and ref.isdigit():
        record = session.get(table, int(ref))
    if record is None:
        raise NotFound(f"no {entity.value} with {key} or id {ref!r} in the base library")
    return record


def claims(session: Session, entity: EntityType, golden: Any) -> list[Claim]:
    """Every value every source claimed for this golden record, the chosen ones marked."""
    rows = session.execute(
        select(SourceRecord, Source.name, Source.department_name, Batch.file_name)
        .join(Source, Source.id == SourceRecord.source_id)
        .join(Batch, Batch.id == SourceRecord.batch_id)
        .where(SourceRecord.entity_type == entity.value, SourceRecord.golden_id == golden.id)
        .order_by(SourceRecord.observed_at, SourceRecord.id)
    ).all()
    held = {name: getattr(golden, name, None) for name in ATTRIBUTES[entity]}
    chosen = chosen_records(golden.provenance, held)
    keyring = keyring_of(session)
    out: list[Claim] = []
    for record, source, department, file_name in rows:
        values = opened(keyring, entity, record.values or {})
        raw = opened(keyring, entity, record.raw or {})
        for attr, value in values.items():
            out.append(
                Claim(
                    attribute=attr,
                    value=str(value),
                    raw=raw.get(attr, value),
                    source=source,
                    department=department,
                    batch_id=record.batch_id,
                    file_name=file_name,
                    line_number=record.line_number,
                    observed_at=record.observed_at,
                    chosen=chosen.get(attr) == record.id,
                )
            )
    return out


def opened(keyring: Keyring, entity: EntityType | str, values: dict[str, Any]) -> dict[str, Any]:
    """A copy of attribute → value with the encrypted attributes decrypted (for reading only:
    never assign it back to a stored record)."""
    out = dict(values)
    for name in encrypted_attributes(entity):
        value = out.get(name)
        if is_sealed(value):
            out[name] = keyring.decrypt(value, field_name(entity, name))
    return out


def golden_values(session: Session, entity: EntityType, golden: Any) -> dict[str, Any]:
    """attribute → value of a golden record, ids and phones decrypted."""
    values = {name: getattr(golden, name, None) for name in ATTRIBUTES[entity]}
    return opened(keyring_of(session), entity, values)
