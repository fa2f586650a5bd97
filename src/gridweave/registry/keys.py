"""Key rotation: every stored citizen id and phone re-encrypted under the active key, blind
indexes recomputed under the blind-index key, and how many values each key still protects
(and whether the key configured under each id opens them).

Rotation goes through each table by primary key in batches, each batch its own transaction:
stopped half-way it has lost nothing (values are under the old key or the new one, and the
keyring holds both); run again, it rewrites only what is not yet under the active key. A clear
value (a database from before revision 0008) is encrypted the same way (decision 0008).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
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


class Seen(Counter[str]):
    """How many stored values each key id protects (CLEAR: not encrypted), and the first value
    seen under each key id with its field, to try the key configured under that id on."""

    def __init__(self) -> None:
        super().__init__()
        self.samples: dict[str, tuple[str, str]] = {}

    def sealed(self, token: str, of_field: str) -> str:
        key_id = key_id_of(token)
        self[key_id] += 1
        self.samples.setdefault(key_id, (token, of_field))
        return key_id


# A row handler returns the columns to write (or None: nothing to change). `seen` counts the
# key id of every stored value, for status.
Row = dict[str, Any]
Handler = Callable[[Keyring, Row, Seen], Row | None]


@dataclass(frozen=True)
class Place:
    table: str
    key: str  # primary key column
    columns: tuple[str, ...]
    handle: Handler


def _renew(keyring: Keyring, value: Any, field: str, seen: Seen) -> Any:
    """`value` under the active key (None when it already is or is empty)."""
    if value is None or value == "":
        return None
    if is_sealed(value):
        if seen.sealed(value, field) == keyring.active:
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

    def handle(keyring: Keyring, row: dict[str, Any], seen: Seen) -> dict[str, Any] | None:
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


def _feature(keyring: Keyring, row: dict[str, Any], seen: Seen) -> dict[str, Any] | None:
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
    keyring: Keyring, entity: str, values: dict[str, Any] | None, seen: Seen
) -> dict[str, Any] | None:
    if not values:
        return None
    changed = dict(values)
    for name in encrypted_attributes(entity):
        renewed = _renew(keyring, values.get(name), field_name(entity, name), seen)
        if renewed is not None:
            changed[name] = renewed
    return changed if changed != values else None


def _source_record(keyring: Keyring, row: dict[str, Any], seen: Seen) -> dict[str, Any] | None:
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


def _quarantined(keyring: Keyring, row: dict[str, Any], seen: Seen) -> dict[str, Any] | None:
    value = row["row"]
    if isinstance(value, dict | list):  # stored whole and clear before 0008
        value = orjson.dumps(value).decode()
    renewed = _renew(keyring, value, QUARANTINE_FIELD, seen)
    return None if renewed is None else {"row": renewed}


def _correction(keyring: Keyring, row: dict[str, Any], seen: Seen) -> dict[str, Any] | None:
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
    seen = Seen()
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


@dataclass
class KeyStatus:
    values: dict[str, Counter[str]]  # table → key id → how many stored values it protects
    # (table, key id) → why the keyring does not open that table's values under that key id
    unopened: dict[tuple[str, str], str] = field(default_factory=dict)
    blind_index: str | None = None  # why the blind-index key does not fit, if it does not

    @property
    def fits(self) -> bool:
        return not self.unopened and self.blind_index is None


def status(engine: Engine, *, batch: int = 5000) -> KeyStatus:
    """How many stored values each key id protects, per table (CLEAR: not encrypted), and
    whether the keys configured fit them: one value of each table and key id is opened with
    the key configured under that id (a key id can be configured with another key's bytes,
    and counting labels would not show it), and the blind index of the newest stored citizen
    id is recomputed with the blind-index key."""
    keyring = keyring_of(engine)
    counting = _Counting(keyring)
    result = KeyStatus(values={})
    for place in PLACES:
        seen = Seen()
        last = None
        with transaction(engine) as session:
            while rows := _read(session, place, last, batch):
                for row in rows:
                    place.handle(counting, row, seen)
                last = rows[-1][place.key]
        seen.pop(REINDEXED, None)
        result.values[place.table] = seen
        for key_id, (token, of_field) in seen.samples.items():
            problem = _unopened(keyring, key_id, token, of_field)
            if problem is not None:
                result.unopened[place.table, key_id] = problem
    result.blind_index = _blind_index_misfit(keyring, _newest_sealed_id(engine))
    return result


def _unopened(keyring: Keyring, key_id: str, token: str, of_field: str) -> str | None:
    if key_id not in keyring.keys:
        return f"no key {key_id!r} is configured"
    try:
        keyring.decrypt(token, of_field)
    except CryptoError:
        return f"the key configured as {key_id!r} is not the one they were encrypted with"
    return None


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


def _newest_sealed_id(engine: Engine) -> Any:
    """The newest golden person's encrypted citizen id and its blind index (None: no such)."""
    with engine.connect() as connection:
        row = connection.execute(
            select(Person.citizen_id, Person.citizen_id_bidx)
            .where(Person.citizen_id.is_not(None), Person.citizen_id_bidx.is_not(None))
            .order_by(Person.id.desc())
            .limit(1)
        ).first()
    return row if row is not None and is_sealed(row.citizen_id) else None


def _blind_index_misfit(keyring: Keyring, row: Any) -> str | None:
    """Why the blind-index key is not the one the stored indexes were made with, judged by
    `row` (`_newest_sealed_id`). None: it is, or nothing tells (no such row, or the keyring
    cannot open its id)."""
    if row is None:
        return None
    try:
        clear = keyring.decrypt(row.citizen_id, field_name(PERSON, "citizen_id"))
    except CryptoError:
        return None
    if keyring.blind(clear, "citizen_id") == row.citizen_id_bidx:
        return None
    return (
        "the blind-index key is not the one this database's look-up indexes were made with:"
        " ids would no longer find their people"
    )


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
    row = _newest_sealed_id(engine)
    if row is None:
        return  # nothing to check against yet, or stored before encryption (rotate seals it)
    where = f"the keys came from {keys_from}"
    try:
        keyring.decrypt(row.citizen_id, field_name(PERSON, "citizen_id"))
    except CryptoError as exc:
        raise CryptoError(
            f"these encryption keys do not open this database's citizen ids ({exc.message})",
            hint=f"{where}; use the keys this database was encrypted with",
        ) from None
    misfit = _blind_index_misfit(keyring, row)
    if misfit is not None:
        raise CryptoError(
            misfit,
            hint=f"{where}; after changing GRIDWEAVE_BLIND_INDEX_KEY on purpose, run"
            " `gridweave keys rotate` at once (it recomputes them)",
        )
