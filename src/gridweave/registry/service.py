"""Operations on golden records: refresh them from source records, and explain their values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import polars as pl
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gridweave.core import clock
from gridweave.core.bulk import bulk_upsert
from gridweave.core.errors import NotFound
from gridweave.ingest.cleaning import clean_series
from gridweave.ingest.contracts import parse_contract
from gridweave.ingest.models import Batch, Source, SourceRecord
from gridweave.registry.attributes import ATTRIBUTES, EntityType, key_attribute
from gridweave.registry.models import GOLDEN_TABLES, Household, Person, Room
from gridweave.registry.survivorship import choose_golden


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


def _sortable(value: str | datetime | None) -> str | None:
    # SQLite hands back its fixed-width text; PostgreSQL a datetime, all in one zone.
    if value is None or isinstance(value, str):
        return value
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _records_for_batch(session: Session, entity: EntityType, batch_id: int) -> pl.DataFrame:
    """Every source record sharing a key with a record of this batch (all claims about them)."""
    sql = (
        'SELECT r.id, r.source_id, r.observed_at, r.entity_key, CAST(r."values" AS TEXT)'
        " FROM source_record r WHERE r.entity_type = :t AND r.entity_key IN"
        " (SELECT b.entity_key FROM source_record b"
        "  WHERE b.batch_id = :b AND b.entity_type = :t AND b.entity_key IS NOT NULL)"
    )
    rows = session.execute(text(sql), {"t": entity.value, "b": batch_id}).all()
    frame = pl.DataFrame(
        [(r[0], r[1], _sortable(r[2]), r[3], r[4]) for r in rows],
        schema={
            "id": pl.Int64,
            "source_id": pl.Int64,
            "observed_at": pl.String,
            "entity_key": pl.String,
            "values": pl.String,
        },
        orient="row",
    )
    attrs = list(ATTRIBUTES[entity])
    return frame.with_columns(
        pl.col("values").str.json_decode(pl.Struct({a: pl.String for a in attrs}))
    ).unnest("values")


def refresh_golden(session: Session, *, batch_id: int) -> dict[str, RefreshCounts]:
    """Rebuild the golden records touched by a batch from all claims about them."""
    connection = session.connection()
    dialect = connection.dialect.name
    stamp = _timestamp(clock.now(), dialect)
    touched = session.scalars(
        select(SourceRecord.entity_type)
        .where(SourceRecord.batch_id == batch_id, SourceRecord.entity_key.is_not(None))
        .distinct()
    ).all()
    priorities = source_priorities(session)
    counts: dict[str, RefreshCounts] = {}
    # buildings before rooms before people: later ones refer to earlier ones
    order = list(EntityType)
    for entity in sorted((EntityType(t) for t in touched), key=order.index):
        records = _records_for_batch(session, entity, batch_id)
        pri = priorities.filter(pl.col("entity_type") == entity.value).drop("entity_type")
        golden = choose_golden(records, entity, pri)
        counts[entity.value] = _upsert(session, entity, golden, stamp)
        _link_records(session, entity, batch_id)
        if entity == EntityType.person:
            counts["household"] = _refresh_households(session, golden, stamp)
    return counts


def _upsert(
    session: Session, entity: EntityType, golden: pl.DataFrame, stamp: str
) -> RefreshCounts:
    table = GOLDEN_TABLES[entity.value]
    key = key_attribute(entity).name
    columns = set(table.__table__.columns.keys())  # type: ignore[attr-defined]
    attrs = [a for a in ATTRIBUTES[entity] if a in columns and a != key and a in golden.columns]
    frame = golden.drop(key, strict=False).rename({"entity_key": key})
    if "address_key" in columns and "address" in frame.columns:
        derived = clean_series("address", frame["address"]).derived
        which = "room_key" if entity == EntityType.room else "building_key"
        frame = frame.with_columns(derived[which].alias("address_key"))
        attrs.append("address_key")
    before = session.scalar(select(func.count()).select_from(table))  # type: ignore[arg-type]
    names = [key, *attrs, "provenance", "sources", "created_at", "updated_at"]
    rows = frame.select(
        [key, *attrs, "provenance", "sources", pl.lit(stamp).alias("c"), pl.lit(stamp).alias("u")]
    ).rows()
    bulk_upsert(session.connection(), table.__tablename__, names, key, rows)  # type: ignore[attr-defined]
    after = session.scalar(select(func.count()).select_from(table))  # type: ignore[arg-type]
    created = (after or 0) - (before or 0)
    return RefreshCounts(created=created, updated=len(rows) - created)


def _link_records(session: Session, entity: EntityType, batch_id: int) -> None:
    table = GOLDEN_TABLES[entity.value].__tablename__  # type: ignore[attr-defined]
    key = key_attribute(entity).name
    session.execute(
        text(
            f"UPDATE source_record SET golden_id = (SELECT g.id FROM {table} g"
            f" WHERE g.{key} = source_record.entity_key)"
            " WHERE batch_id = :b AND entity_type = :t AND entity_key IS NOT NULL"
        ),
        {"b": batch_id, "t": entity.value},
    )


def _refresh_households(session: Session, people: pl.DataFrame, stamp: str) -> RefreshCounts:
    """Hukou households follow from their members' register numbers and relations."""
    if "household_number" not in people.columns:
        return RefreshCounts()
    numbers = people["household_number"].drop_nulls().unique()
    if numbers.len() == 0:
        return RefreshCounts()
    members = session.execute(
        select(
            Person.household_number,
            Person.relation_to_head,
            Person.hukou_address,
            Person.provenance,
        ).where(Person.household_number.in_(numbers.to_list()))
    ).all()
    frame = pl.DataFrame(
        [
            (n, rel == "head", addr, (prov or {}).get("hukou_address"))
            for n, rel, addr, prov in members
        ],
        schema={
            "household_number": pl.String,
            "is_head": pl.Boolean,
            "address": pl.String,
            "address_from": pl.Int64,
        },
        orient="row",
    )
    households = (
        frame.sort(["household_number", "is_head"], descending=[False, True])
        .group_by("household_number", maintain_order=True)
        .agg(
            pl.col("address").drop_nulls().first(),
            pl.col("address_from").drop_nulls().first(),
            pl.len().alias("sources"),
        )
    )
    rows = [
        (n, addr, orjson.dumps({"address": src} if src else {}).decode(), size, stamp, stamp)
        for n, addr, src, size in households.rows()
    ]
    before = session.scalar(select(func.count()).select_from(Household))
    bulk_upsert(
        session.connection(),
        "household",
        ["household_number", "address", "provenance", "sources", "created_at", "updated_at"],
        "household_number",
        rows,
    )
    created = (session.scalar(select(func.count()).select_from(Household)) or 0) - (before or 0)
    return RefreshCounts(created=created, updated=len(rows) - created)


def room_index(session: Session) -> pl.DataFrame:
    """room_key → room_code for every golden room with a parsed address."""
    rows = session.execute(
        select(Room.address_key, Room.room_code).where(Room.address_key.is_not(None))
    ).all()
    return pl.DataFrame(
        rows, schema={"room_key": pl.String, "room_code": pl.String}, orient="row"
    ).unique("room_key", keep="first")


def library_totals(session: Session) -> dict[str, int]:
    """How many golden records of each kind the base library holds."""
    return {
        name: session.scalar(select(func.count()).select_from(table)) or 0  # type: ignore[arg-type]
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
    record = session.scalar(select(table).where(getattr(table, key) == ref))
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
    chosen = golden.provenance or {}
    out: list[Claim] = []
    for record, source, department, file_name in rows:
        for attr, value in (record.values or {}).items():
            out.append(
                Claim(
                    attribute=attr,
                    value=str(value),
                    raw=(record.raw or {}).get(attr),
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
