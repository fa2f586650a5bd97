"""Linkage's reads and writes: source records and features in, golden ids and records out.

Bulk work goes through core.bulk and temporary tables joined in SQL, never huge IN lists.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
import polars as pl
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from gridweave.core.bulk import insert_frame, temp_table, upsert_frame
from gridweave.core.crypto import Keyring
from gridweave.core.database import keyring_of
from gridweave.linkage.config import LinkageConfig
from gridweave.linkage.features import STORED, VALUE_COLUMNS, comparison_frame, person_features
from gridweave.linkage.models import LinkDecision, ReviewItem
from gridweave.registry.attributes import ATTRIBUTES, EntityType, field_name
from gridweave.registry.survivorship import chosen_records

PERSON = EntityType.person.value
PERSON_ATTRS = list(ATTRIBUTES[EntityType.person])
FEATURE_COLUMNS = [c for c in STORED if c != "record_id"]
ID_KEY_BLOCK = "id"  # the implicit blocking key: every record carrying the same valid id
# Stored encrypted (decision 0008), opened when loaded: linkage compares them in clear in memory.
SEALED = {"citizen_id": "citizen_id", "phone": "phone", "id_key": "citizen_id"}
# Blocking keys built from these are stored as blind indexes, never as ids or phones.
BLINDED = frozenset(
    {"phone", "citizen_id", "id_key", "id_area_birth", "id_birth_order", "id_area_order"}
)


def _field(column: str) -> str:
    return field_name(EntityType.person, SEALED[column])


def open_columns(keyring: Keyring, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with its encrypted columns (citizen_id, phone, id_key) decrypted."""
    return frame.with_columns(
        keyring.decrypt_series(frame[c], _field(c)) for c in SEALED if c in frame.columns
    )


def seal_columns(keyring: Keyring, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with its citizen_id, phone and id_key columns encrypted, for storing."""
    return frame.with_columns(
        keyring.encrypt_series(frame[c], _field(c)) for c in SEALED if c in frame.columns
    )


def _ids_table(connection: Connection, name: str, ids: Iterable[int]) -> str:
    return temp_table(connection, name, {"k": "BIGINT PRIMARY KEY"}, ((int(i),) for i in ids))


def last_featured(session: Session) -> int:
    """The newest person source record that has its features (0: none)."""
    value = session.connection().exec_driver_sql("SELECT max(record_id) FROM person_feature")
    return int(value.scalar() or 0)


def records_after(session: Session, after: int) -> pl.DataFrame:
    """Person source records newer than `after`: record_id, entity_key and cleaned values."""
    rows = (
        session.connection()
        .exec_driver_sql(
            'SELECT id, entity_key, CAST("values" AS TEXT) FROM source_record'
            f" WHERE id > {int(after)} AND entity_type = '{PERSON}'"
        )
        .all()
    )
    frame = pl.DataFrame(
        rows,
        schema={"record_id": pl.Int64, "entity_key": pl.String, "values": pl.String},
        orient="row",
    )
    frame = open_columns(
        keyring_of(session),
        frame.with_columns(
            pl.col("values").str.json_decode(pl.Struct({c: pl.String for c in VALUE_COLUMNS}))
        ).unnest("values"),
    )
    # entity_key is the blind index of the record's valid id: the id itself, in memory
    return frame.with_columns(
        pl.when(pl.col("entity_key").is_not_null()).then(pl.col("citizen_id")).alias("entity_key")
    )


def block_keys(frame: pl.DataFrame, config: LinkageConfig, keyring: Keyring) -> pl.DataFrame:
    """key, record_id, idless: one row per record per blocking key whose columns it all has.

    A key made of ids or phones is stored as its blind index: equal keys stay equal.
    """
    idless = pl.col("id_key").is_null().alias("idless")

    def blinded(value: pl.Expr, columns: list[str]) -> pl.Series:
        series = frame.select(value).to_series()
        return keyring.blind_series(series, "block") if BLINDED & set(columns) else series

    parts = [
        frame.select(
            (pl.lit(f"{ID_KEY_BLOCK}|") + blinded(pl.col("id_key"), ["id_key"])).alias("key"),
            "record_id",
            idless,
        ).drop_nulls("key")
    ]
    for i, key in enumerate(config.person.blocking):
        value = blinded(
            pl.concat_str([pl.col(c).cast(pl.String) for c in key], separator="|"), list(key)
        )
        parts.append(
            frame.select((pl.lit(f"{i}|") + value).alias("key"), "record_id", idless).drop_nulls(
                "key"
            )
        )
    # sorted: SQLite appends to its b-tree instead of inserting all over it (3× faster)
    return pl.concat(parts).unique(["key", "record_id"]).sort("key", "record_id")


def add_features(session: Session, records: pl.DataFrame, config: LinkageConfig) -> pl.DataFrame:
    """Compute and store the features and blocking keys of new records; return the features."""
    features = person_features(records)
    connection = session.connection()
    keyring = keyring_of(session)
    sealed = seal_columns(keyring, features.select("record_id", *FEATURE_COLUMNS))
    insert_frame(connection, "person_feature", sealed)
    keys = block_keys(comparison_frame(features), config, keyring)
    insert_frame(connection, "person_block_key", keys.select("key", "record_id", "idless"))
    return features


def rebuild_block_keys(session: Session, config: LinkageConfig) -> None:
    """Replace every blocking key (the configuration's keys changed)."""
    connection = session.connection()
    connection.exec_driver_sql("DELETE FROM person_block_key")
    keys = block_keys(comparison_frame(load_features(session)), config, keyring_of(session))
    insert_frame(connection, "person_block_key", keys.select("key", "record_id", "idless"))


def load_features(session: Session, record_ids: Iterable[int] | None = None) -> pl.DataFrame:
    """Features of every person record (or of `record_ids`), with source_id and golden_id."""
    connection = session.connection()
    cols = ", ".join(f"f.{c}" for c in STORED)
    sql = (
        f"SELECT {cols}, r.source_id, r.golden_id FROM person_feature f"
        " JOIN source_record r ON r.id = f.record_id"
    )
    if record_ids is not None:
        table = _ids_table(connection, "_gw_load", record_ids)
        sql += f" JOIN {table} t ON t.k = f.record_id"
    rows = connection.exec_driver_sql(sql).all()
    schema = dict(STORED) | {"source_id": pl.Int64, "golden_id": pl.Int64}
    return open_columns(keyring_of(session), pl.DataFrame(rows, schema=schema, orient="row"))


def candidates(session: Session, keys: pl.DataFrame) -> list[int]:
    """Records that could pair with the new records of `keys` (key, record_id, idless).

    They share a blocking key, and one of the two has no valid id: a new record with a valid
    id only needs the id-less records of its blocks (two valid ids decide by themselves).
    """
    connection = session.connection()
    wanted = keys.group_by("key").agg(pl.col("idless").any())
    table = temp_table(
        connection,
        "_gw_keys_in",
        {"key": "TEXT", "idless": "BOOLEAN"},
        wanted.select("key", "idless").rows(),
    )
    rows = connection.exec_driver_sql(
        f"SELECT DISTINCT b.record_id FROM person_block_key b JOIN {table} t ON t.key = b.key"
        " WHERE t.idless OR b.idless"
    ).all()
    return [r[0] for r in rows]


def golden_anchors(session: Session, keys: Iterable[str]) -> pl.DataFrame:
    """record_id, id_key, name, birth_date of the golden people holding `keys`: what a new
    record carrying one of those ids must agree with (record_id: the record the name came from).
    """
    connection = session.connection()
    index = _blind_keys(keyring_of(session), keys)
    table = temp_table(connection, "_gw_anchor", {"k": "TEXT"}, ((k,) for k in index))
    rows = connection.exec_driver_sql(
        "SELECT p.provenance, p.citizen_id_bidx, p.name, p.birth_date"
        f" FROM person p JOIN {table} t ON t.k = p.citizen_id_bidx"
    ).all()
    found = [(p, index[b], n, d) for p, b, n, d in rows]
    # SQLite hands JSON back as text, PostgreSQL as a dict
    provenance = [orjson.loads(p) if isinstance(p, str | bytes) else p for p, *_ in found]
    return pl.DataFrame(
        [
            (
                chosen_records(prov, {"name": n}).get("name"),
                k,
                n,
                None if b is None else str(b)[:10],
            )
            for prov, (_, k, n, b) in zip(provenance, found, strict=True)
        ],
        schema={"record_id": pl.Int64, "id_key": pl.String, "name": pl.String}
        | {"birth_date": pl.String},
        orient="row",
    ).drop_nulls("record_id")


def _blind_keys(keyring: Keyring, keys: Iterable[str]) -> dict[str, str]:
    """blind index → citizen id, for keyed joins against person.citizen_id_bidx."""
    return {keyring.blind(k, "citizen_id"): k for k in set(keys)}


def name_frequencies(session: Session, names: pl.Series) -> pl.DataFrame:
    """name, tf_name: each name's share of all person records' names."""
    connection = session.connection()
    total = connection.exec_driver_sql("SELECT count(name) FROM person_feature").scalar() or 1
    table = temp_table(
        connection, "_gw_names", {"name": "TEXT"}, ((n,) for n in names.drop_nulls().unique())
    )
    rows = connection.exec_driver_sql(
        f"SELECT f.name, count(*) FROM person_feature f JOIN {table} t ON t.name = f.name"
        " GROUP BY f.name"
    ).all()
    return pl.DataFrame(rows, schema={"name": pl.String, "n": pl.Int64}, orient="row").select(
        "name", (pl.col("n") / total).alias("tf_name")
    )


def decisions(session: Session) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(link, keep_apart) pairs (record_id, other_id) a steward decided, on people."""
    rows = session.execute(
        select(LinkDecision.record_id, LinkDecision.other_id, LinkDecision.decision).where(
            LinkDecision.entity_type == PERSON
        )
    ).all()
    frame = pl.DataFrame(
        rows,
        schema={"record_id": pl.Int64, "other_id": pl.Int64, "decision": pl.String},
        orient="row",
    )
    pick = frame.select
    return (
        pick("record_id", "other_id").filter(frame["decision"] == "link"),
        pick("record_id", "other_id").filter(frame["decision"] == "keep_apart"),
    )


def review_pairs(session: Session) -> pl.DataFrame:
    """Every person review item: kind, record_id, other_id, status."""
    rows = session.execute(
        select(ReviewItem.kind, ReviewItem.record_id, ReviewItem.other_id, ReviewItem.status).where(
            ReviewItem.entity_type == PERSON
        )
    ).all()
    return pl.DataFrame(
        rows,
        schema={
            "kind": pl.String,
            "record_id": pl.Int64,
            "other_id": pl.Int64,
            "status": pl.String,
        },
        orient="row",
    )


def set_golden_ids(session: Session, records: pl.DataFrame) -> None:
    """source_record.golden_id := golden_id for record_id, golden_id in `records`."""
    if records.height == 0:
        return
    connection = session.connection()
    table = temp_table(
        connection, "_gw_golden", {"id": "BIGINT PRIMARY KEY", "g": "BIGINT"}, records.rows()
    )
    connection.exec_driver_sql(
        f"UPDATE source_record SET golden_id = t.g FROM {table} t WHERE source_record.id = t.id"
    )


def repoint(session: Session, merges: pl.DataFrame) -> None:
    """Records of each retired golden record (from_id) now belong to the one it merged into."""
    if merges.height == 0:
        return
    connection = session.connection()
    table = temp_table(
        connection, "_gw_merge", {"f": "BIGINT PRIMARY KEY", "i": "BIGINT"}, merges.rows()
    )
    connection.exec_driver_sql(
        f"UPDATE source_record SET golden_id = t.i FROM {table} t"
        f" WHERE source_record.entity_type = '{PERSON}' AND source_record.golden_id = t.f"
    )


def claims(session: Session, golden_ids: Iterable[int]) -> pl.DataFrame:
    """Every claim linked to these golden people: id, source_id, observed_at, golden_id,
    own_key (the record's valid id) and one String column per attribute."""
    connection = session.connection()
    table = _ids_table(connection, "_gw_claims", golden_ids)
    rows = connection.exec_driver_sql(
        "SELECT r.id, r.source_id, r.observed_at, r.golden_id, r.entity_key,"
        ' CAST(r."values" AS TEXT)'
        f" FROM source_record r JOIN {table} t ON t.k = r.golden_id"
        f" WHERE r.entity_type = '{PERSON}'"
    ).all()
    observed = pl.Series("observed_at", [r[2] for r in rows])
    if observed.dtype == pl.String:  # SQLite hands back text, PostgreSQL aware datetimes
        observed = observed.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_zone="UTC", time_unit="us")
    elif observed.dtype != pl.Null:
        observed = observed.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    frame = pl.DataFrame(
        {
            "id": pl.Series([r[0] for r in rows], dtype=pl.Int64),
            "source_id": pl.Series([r[1] for r in rows], dtype=pl.Int64),
            "observed_at": observed.cast(pl.Datetime("us", "UTC")),
            "golden_id": pl.Series([r[3] for r in rows], dtype=pl.Int64),
            "own_key": pl.Series([r[4] for r in rows], dtype=pl.String),
            "values": pl.Series([r[5] for r in rows], dtype=pl.String),
        }
    )
    frame = open_columns(
        keyring_of(session),
        frame.with_columns(
            pl.col("values").str.json_decode(pl.Struct({a: pl.String for a in PERSON_ATTRS}))
        ).unnest("values"),
    )
    # own_key is the blind index of the record's valid id: the id itself, in memory
    return frame.with_columns(
        pl.when(pl.col("own_key").is_not_null()).then(pl.col("citizen_id")).alias("own_key")
    )


def keys_owned_elsewhere(session: Session, keys: Iterable[str], touched: Iterable[int]) -> set[str]:
    """Of `keys`, those a golden person outside `touched` holds as its citizen id."""
    connection = session.connection()
    index = _blind_keys(keyring_of(session), keys)
    table = temp_table(connection, "_gw_owned", {"k": "TEXT"}, ((k,) for k in index))
    touched_table = _ids_table(connection, "_gw_touched", touched)
    rows = connection.exec_driver_sql(
        f"SELECT p.citizen_id_bidx FROM person p JOIN {table} t ON t.k = p.citizen_id_bidx"
        f" WHERE NOT EXISTS (SELECT 1 FROM {touched_table} x WHERE x.k = p.id)"
    ).all()
    return {index[r[0]] for r in rows}


def golden_keys(session: Session, golden_ids: Iterable[int]) -> pl.DataFrame:
    """golden_id, key: the citizen id each of these golden people holds."""
    connection = session.connection()
    table = _ids_table(connection, "_gw_gkeys", golden_ids)
    rows = connection.exec_driver_sql(
        f"SELECT p.id, p.citizen_id FROM person p JOIN {table} t ON t.k = p.id"
    ).all()
    frame = pl.DataFrame(rows, schema={"golden_id": pl.Int64, "key": pl.String}, orient="row")
    return frame.with_columns(
        keyring_of(session).decrypt_series(frame["key"], _field("citizen_id"))
    )


def write_people(
    session: Session, golden: pl.DataFrame, retired: Iterable[int], stamp: str
) -> None:
    """Delete retired golden people, then write `golden` (id, attributes, provenance, sources).

    Citizen ids can move between the records written here (a split, a merge), so theirs are
    cleared first: the unique index sees each id once at every step.
    """
    connection = session.connection()
    gone = _ids_table(connection, "_gw_retired", retired)
    connection.exec_driver_sql(f"DELETE FROM person WHERE id IN (SELECT k FROM {gone})")
    if golden.height == 0:
        return
    touched = _ids_table(connection, "_gw_rewrite", golden["id"])
    connection.exec_driver_sql(
        "UPDATE person SET citizen_id = NULL, citizen_id_bidx = NULL"
        f" WHERE id IN (SELECT k FROM {touched})"
    )
    keyring = keyring_of(session)
    golden = seal_columns(
        keyring,
        golden.with_columns(
            keyring.blind_series(golden["citizen_id"], "citizen_id").alias("citizen_id_bidx"),
            keyring.blind_series(golden["phone"], "phone").alias("phone_bidx"),
        ),
    )
    names = ["id", *PERSON_ATTRS, "citizen_id_bidx", "phone_bidx", "provenance", "sources"]
    stamps = {"created_at": stamp, "updated_at": stamp}
    upsert_frame(connection, "person", golden.select(names), "id", constants=stamps)
