"""Key rotation: every stored citizen id and phone re-encrypted under the active key, blind
indexes recomputed under the blind-index key, and how many values each key still protects.

Rotation goes through each table by primary key in batches, each batch its own transaction:
stopped half-way it has lost nothing (values are under the old key or the new one, and the
keyring holds both); run again, it rewrites only what is not yet under the active key. A clear
value (a database from before revision 0008) is encrypted the same way (decision 0008).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, Table, bindparam, select, update
from sqlalchemy.orm import Session

from gridweave.core.crypto import CryptoError, Keyring, is_sealed, key_id_of
from gridweave.core.database import Base, keyring_of, transaction
from gridweave.registry.attributes import (
    EntityType,
    encrypted_attributes,
    field_name,
)
from gridweave.registry.models import Person

PERSON = EntityType.person
CLEAR = "(clear)"  # how status counts a value not yet encrypted
REINDEXED = "(reindexed)"  # how rotate counts a blind index recomputed
Progress = Callable[[str, int], None]  # table, rows rewritten so far

# A row handler returns the columns to write (or None: nothing to change). `seen` counts the
# key id of every stored value, for status.
Row = dict[str, Any]
Handler = Callable[[Keyring, Row, Counter[str]], Row | None]


@dataclass(frozen=True)
class Place:
    table: str
    key: str  # primary key column
    columns: tuple[str, ...]
    handle: Handler


def _renew(keyring: Keyring, value: Any, field: str, seen: Counter[str]) -> Any:
    """`value` under the active key (None when it already is or is empty)."""
    if value is None or value == "":
        return None
    if is_sealed(value):
        key_id = key_id_of(value)
        seen[key_id] += 1
        if key_id == keyring.active:
            return None
        return keyring.encrypt(keyring.decrypt(value, field), field)
    seen[CLEAR] += 1
    return keyring.encrypt(str(value), field)


def _clear(keyring: Keyring, value: Any, field: str) -> str | None:
    if value is None:
        return None
    return keyring.decrypt(value, field) if is_sealed(value) else str(value)


def _golden(entity: EntityType, blind: dict[str, str]) -> Handler:
    """A golden table's encrypted columns; `blind`: column → its blind-index column."""

    def handle(keyring: Keyring, row: dict[str, Any], seen: Counter[str]) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        for name in encrypted_attributes(entity):
            renewed = _renew(keyring, row[name], field_name(entity, name), seen)
            if renewed is not None:
                out[name] = renewed
            if name in blind:
                clear = _clear(keyring, row[name], field_name(entity, name))
                index = None if clear is None else keyring.blind(clear, name)
                if index != row[blind[name]]:
                    out[blind[name]] = index
                    seen[REINDEXED] += 1
        return out or None

    return handle


def _feature(keyring: Keyring, row: dict[str, Any], seen: Counter[str]) -> dict[str, Any] | None:
    out = {}
    for column, attr in (
        ("citizen_id", "citizen_id"),
        ("phone", "phone"),
        ("id_key", "citizen_id"),
    ):
        renewed = _renew(keyring, row[column], field_name(PERSON, attr), seen)
        if renewed is not None:
            out[column] = renewed
    return out or None


def _json_values(
    keyring: Keyring, entity: str, values: dict[str, Any] | None, seen: Counter[str]
) -> dict[str, Any] | None:
    if not values:
        return None
    changed = dict(values)
    for name in encrypted_attributes(entity):
        renewed = _renew(keyring, values.get(name), field_name(entity, name), seen)
        if renewed is not None:
            changed[name] = renewed
    return changed if changed != values else None


def _source_record(
    keyring: Keyring, row: dict[str, Any], seen: Counter[str]
) -> dict[str, Any] | None:
    entity = row["entity_type"]
    out: dict[str, Any] = {}
    for column in ("values", "raw"):
        changed = _json_values(keyring, entity, row[column], seen)
        if changed is not None:
            out[column] = changed
    if entity == PERSON.value and row["entity_key"] is not None:
        # a person's key is the blind index of their valid id (the id itself before 0008)
        clear = _clear(keyring, (row["values"] or {}).get("citizen_id"), "person.citizen_id")
        index = None if clear is None else keyring.blind(clear, "citizen_id")
        if index is not None and index != row["entity_key"]:
            out["entity_key"] = index
            seen[REINDEXED] += 1
    return out or None


QUARANTINE_FIELD = "quarantined_row.row"


def _quarantined(
    keyring: Keyring, row: dict[str, Any], seen: Counter[str]
) -> dict[str, Any] | None:
    value = row["row"]
    if isinstance(value, dict | list):  # stored whole and clear before 0008
        value = orjson.dumps(value).decode()
    renewed = _renew(keyring, value, QUARANTINE_FIELD, seen)
    return None if renewed is None else {"row": renewed}


def _correction(keyring: Keyring, row: dict[str, Any], seen: Counter[str]) -> dict[str, Any] | None:
    if row["attribute"] not in encrypted_attributes(PERSON):
        return None
    field = "correction_request." + field_name(PERSON, row["attribute"])
    out = {}
    for column in ("disputed_value", "proposed_value", "corrected_value"):
        renewed = _renew(keyring, row[column], field, seen)
        if renewed is not None:
            out[column] = renewed
    return out or None


PLACES = (
    Place(
        "person",
        "id",
        ("citizen_id", "phone", "citizen_id_bidx", "phone_bidx"),
        _golden(PERSON, {"citizen_id": "citizen_id_bidx", "phone": "phone_bidx"}),
    ),
    Place("legal_entity", "id", ("phone",), _golden(EntityType.legal_entity, {})),
    Place("source_record", "id", ("entity_type", "entity_key", "values", "raw"), _source_record),
    Place("quarantined_row", "id", ("row",), _quarantined),
    Place("person_feature", "record_id", ("citizen_id", "phone", "id_key"), _feature),
    Place(
        "correction_request",
        "id",
        ("attribute", "disputed_value", "proposed_value", "corrected_value"),
        _correction,
    ),
)


def _read(session: Session, place: Place, after: Any, size: int) -> list[Row]:
    """The next `size` rows after primary key `after` (None: from the start)."""
    table: Table = Base.metadata.tables[place.table]
    key = table.c[place.key]
    query = select(key, *(table.c[c] for c in place.columns)).order_by(key).limit(size)
    if after is not None:
        query = query.where(key > after)
    return [dict(r._mapping) for r in session.execute(query)]


def _write(session: Any, place: Place, updates: list[dict[str, Any]]) -> None:
    table: Table = Base.metadata.tables[place.table]
    for columns in {tuple(sorted(u)) for u in updates}:
        same = [u for u in updates if tuple(sorted(u)) == columns]
        names = [c for c in columns if c != "_pk"]
        statement = (
            update(table)
            .where(table.c[place.key] == bindparam("_pk"))
            .values({c: bindparam(f"_{c}") for c in names})
        )
        session.connection().execute(
            statement, [{"_pk": u["_pk"], **{f"_{c}": u[c] for c in names}} for u in same]
        )


def rotate(
    engine: Engine, *, batch: int = 2000, progress: Progress | None = None
) -> dict[str, int]:
    """Re-encrypt every stored id and phone not under the active key (and encrypt clear ones),
    and bring every blind index up to the blind-index key. Returns rows rewritten per table."""
    keyring = keyring_of(engine)
    rewritten: dict[str, int] = {}
    seen: Counter[str] = Counter()
    for place in PLACES:
        done, last = 0, None
        while True:
            with transaction(engine) as session:  # one batch, committed before it is reported
                rows = _read(session, place, last, batch)
                if not rows:
                    break
                updates = []
                for row in rows:
                    change = place.handle(keyring, row, seen)
                    if change:
                        updates.append({"_pk": row[place.key], **change})
                if updates:
                    _write(session, place, updates)
            done += len(updates)
            last = rows[-1][place.key]
            if progress:
                progress(place.table, done)
        rewritten[place.table] = done
    if seen[REINDEXED]:
        # blocking keys of ids and phones are blind indexes too: the next `gridweave link`
        # rebuilds them all, as it does when the blocking configuration changes
        with transaction(engine) as session:
            session.connection().exec_driver_sql("UPDATE linkage_run SET blocking = 'reindex'")
    return rewritten


def status(engine: Engine, *, batch: int = 5000) -> dict[str, Counter[str]]:
    """table → how many stored values each key id protects (CLEAR: not encrypted)."""
    counting = _Counting(keyring_of(engine))
    out: dict[str, Counter[str]] = {}
    for place in PLACES:
        seen: Counter[str] = Counter()
        last = None
        with transaction(engine) as session:
            while rows := _read(session, place, last, batch):
                for row in rows:
                    place.handle(counting, row, seen)
                last = rows[-1][place.key]
        seen.pop(REINDEXED, None)
        out[place.table] = seen
    return out


class _Counting(Keyring):
    """A keyring that only counts: encrypting is skipped, so status writes and costs nothing."""

    def __init__(self, keyring: Keyring) -> None:
        object.__setattr__(self, "keys", keyring.keys)
        object.__setattr__(self, "active", keyring.active)
        object.__setattr__(self, "algorithm", keyring.algorithm)
        object.__setattr__(self, "blind_key", keyring.blind_key)

    def encrypt(self, value: str, field_name: str) -> str:
        return value

    def decrypt(self, token: str, field_name: str) -> str:
        return token


def verify_keyring(engine: Engine, *, keys_from: str) -> None:
    """Refuse keys that are not this database's, before anything is read or written with them.

    Keys that merely differ would not fail anywhere by themselves: a development database's keys
    are made on first use in `data_dir`, so run from another folder gridweave would make new ones,
    and an ingest would then store every person again under a blind index no earlier record has.
    So the newest stored citizen id is opened with the keyring and its blind index recomputed;
    either failing stops the command. `keys_from` says where the keys came from, for the message.
    Costs one read of the person table from its newest row back to the first with an id.
    """
    keyring = keyring_of(engine)
    with engine.connect() as connection:
        row = connection.execute(
            select(Person.citizen_id, Person.citizen_id_bidx)
            .where(Person.citizen_id.is_not(None), Person.citizen_id_bidx.is_not(None))
            .order_by(Person.id.desc())
            .limit(1)
        ).first()
    if row is None or not is_sealed(row.citizen_id):
        return  # nothing to check against yet, or stored before encryption (rotate seals it)
    where = f"the keys came from {keys_from}"
    try:
        clear = keyring.decrypt(row.citizen_id, field_name(PERSON, "citizen_id"))
    except CryptoError as exc:
        raise CryptoError(
            f"these encryption keys do not open this database's citizen ids ({exc.message})",
            hint=f"{where}; use the keys this database was encrypted with",
        ) from None
    if keyring.blind(clear, "citizen_id") != row.citizen_id_bidx:
        raise CryptoError(
            "this blind-index key is not the one this database's look-up indexes were made with:"
            " ids would no longer find their people",
            hint=f"{where}; after changing GRIDWEAVE_BLIND_INDEX_KEY on purpose, run"
            " `gridweave keys rotate` at once (it recomputes them)",
        )
