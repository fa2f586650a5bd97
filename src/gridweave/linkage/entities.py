"""Link legal entities, buildings and rooms that carry no strong key to their golden records.

The ingest keys these records on their valid strong key (credit code, building code, door-plate
code) and makes the golden records; a record without one (a tax record without a credit code, a
rental contract without the door-plate code) is linked here: by its normalised name and address
(legal entities, `organisations`) or its standardised address (rooms and buildings, `places`).
Two records with different valid keys are never joined: golden records stay one per key, so
nothing here ever merges two of them. Each run reads the records new since the last one and the
records still waiting for a golden record, never the whole library. See docs/linkage.md.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gridweave.core import clock
from gridweave.core.bulk import bulk_insert, temp_table
from gridweave.core.database import transaction
from gridweave.core.errors import GridweaveError, NotFound
from gridweave.linkage import store
from gridweave.linkage.models import LinkageRun, LinkDecision, ReviewItem
from gridweave.linkage.organisations import DEFAULT_PLACES, judge, name_keys
from gridweave.linkage.places import WILD, judge_place, place_keys
from gridweave.registry.attributes import EntityType, key_attribute
from gridweave.registry.service import rebuild_linked, source_priorities

ENTITY_TYPES = ("legal_entity", "building", "room")
KEYS_VERSION = "keys-1"  # changes when the keys change: the next run recomputes every record
ADDRESS_ATTRIBUTES = {
    "legal_entity": ("registered_address", "operating_address"),
    "building": ("address",),
    "room": ("address",),
}
Progress = Callable[[str], None]


@dataclass
class EntityLinkReport:
    """What one run did for one entity type."""

    entity_type: str
    run_id: int
    mode: str  # full (first run: every record's keys) | incremental
    records_in: int = 0  # source records of this type in the base library
    records_new: int = 0  # not seen by linkage before
    waiting: int = 0  # without a golden record (no valid key) and not in review, before the run
    auto_links: int = 0
    review_items: int = 0  # new items in the review queue
    left_waiting: int = 0  # still without a golden record: in review, or nothing matches for sure
    golden_updated: int = 0
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)  # why records linked or went to review


def link_entities(
    engine: Engine,
    *,
    actor: str,
    entity_types: Sequence[str] = ENTITY_TYPES,
    places: tuple[str, ...] = DEFAULT_PLACES,
    progress: Progress | None = None,
) -> list[EntityLinkReport]:
    """Link the uncoded legal entity, building and room records, in one transaction.

    `places`: the place names a legal entity's name may carry in brackets or lead with without
    naming another entity (a city other than Shenzhen passes its own).
    """
    unknown = [t for t in entity_types if t not in ENTITY_TYPES]
    if unknown:
        raise GridweaveError(
            f"cannot link {', '.join(unknown)} by name or address",
            hint=f"known: {', '.join(ENTITY_TYPES)}; people are linked by `link_people`",
        )
    say = progress or (lambda _: None)
    with transaction(engine) as session:
        if session.connection().dialect.name == "postgresql":
            # the same serialisation against ingests as the person run (decision 0003)
            session.connection().exec_driver_sql("LOCK TABLE batch IN SHARE MODE")
        reports = []
        for entity_type in entity_types:
            say(f"linking {entity_type} records without a key")
            reports.append(_link(session, actor, entity_type, places))
        return reports


def _link(
    session: Session, actor: str, entity_type: str, places: tuple[str, ...]
) -> EntityLinkReport:
    started = time.perf_counter()
    last = session.scalar(
        select(LinkageRun)
        .where(LinkageRun.entity_type == entity_type)
        .order_by(LinkageRun.id.desc())
        .limit(1)
    )
    full = last is None or last.blocking != KEYS_VERSION
    run = LinkageRun(
        entity_type=entity_type,
        mode="full" if full else "incremental",
        actor=actor,
        started_at=clock.now(),
        blocking=KEYS_VERSION,
    )
    session.add(run)
    session.flush()
    report = EntityLinkReport(entity_type, run.id, run.mode)
    connection = session.connection()
    if full:
        connection.exec_driver_sql(f"DELETE FROM match_key WHERE entity_type = '{entity_type}'")
    after = 0 if full or last is None else last.last_record_id
    new = _records(session, entity_type, f"r.id > {int(after)}")
    report.records_new = new.height
    _store_keys(session, entity_type, new, places)

    waiting = _records(session, entity_type, "r.golden_id IS NULL")
    held = _open_items(session, entity_type)
    waiting = waiting.filter(~pl.col("record_id").is_in(list(held)))
    report.waiting = waiting.height
    if entity_type == EntityType.legal_entity.value:
        verdicts = _judge_organisations(session, waiting, places)
    else:
        verdicts = _judge_places(session, entity_type, waiting)

    links = [(r, v[1]) for r, v in verdicts.items() if v[0] == "link" and v[1] is not None]
    reviews = [(r, v[2]) for r, v in verdicts.items() if v[0] == "review"]
    for action, _golden, _other, reason in verdicts.values():
        label = f"{action}: {reason}"
        report.reasons[label] = report.reasons.get(label, 0) + 1
    if links:
        store.set_golden_ids(session, pl.DataFrame(links, schema=["record_id", "g"], orient="row"))
    report.golden_updated = rebuild_linked(
        session,
        entity=EntityType(entity_type),
        golden_ids=sorted({g for _, g in links if g is not None}),
        priorities=source_priorities(session),
    )
    report.auto_links = len(links)
    report.review_items = _queue(session, entity_type, run.id, reviews)
    report.left_waiting = int(
        connection.exec_driver_sql(
            "SELECT count(*) FROM source_record"
            f" WHERE entity_type = '{entity_type}' AND golden_id IS NULL"
        ).scalar()
        or 0
    )
    report.records_in = int(
        connection.exec_driver_sql(
            f"SELECT count(*) FROM source_record WHERE entity_type = '{entity_type}'"
        ).scalar()
        or 0
    )
    newest = max(new["record_id"].to_list(), default=after)
    run.last_record_id = max(newest, after)
    report.seconds = round(time.perf_counter() - started, 2)
    run.finished_at = clock.now()
    run.records_new, run.records_read = report.records_new, report.waiting
    run.auto_links, run.review_items = report.auto_links, report.review_items
    run.golden_updated, run.seconds = report.golden_updated, report.seconds
    run.report = {
        "records_in": report.records_in,
        "left_waiting": report.left_waiting,
        "reasons": report.reasons,
    }
    session.flush()
    return report


def _records(session: Session, entity_type: str, where: str) -> pl.DataFrame:
    """record_id, golden_id, name and address attributes of this type's records matching."""
    attrs = ["name", *ADDRESS_ATTRIBUTES[entity_type]]
    rows = (
        session.connection()
        .exec_driver_sql(
            'SELECT r.id, r.golden_id, CAST(r."values" AS TEXT) FROM source_record r'
            f" WHERE r.entity_type = '{entity_type}' AND {where}"
        )
        .all()
    )
    frame = pl.DataFrame(
        rows,
        schema={"record_id": pl.Int64, "golden_id": pl.Int64, "values": pl.String},
        orient="row",
    )
    return frame.with_columns(
        pl.col("values").str.json_decode(pl.Struct({a: pl.String for a in attrs}))
    ).unnest("values")


def _organisation_keys(
    row: dict[str, str | None], places: tuple[str, ...]
) -> tuple[list[str], list[str], set[str]]:
    """(stored keys, name probes, address probes) of one legal entity record."""
    names = name_keys(row.get("name"), places)
    stored: list[str] = []
    probes: list[str] = []
    if names.exact:
        stored.append(f"x|{names.exact}")
        probes.append(f"x|{names.exact}")
    if names.loose:
        stored.append(f"l|{names.loose}")
        probes.append(f"l|{names.loose}")
    addresses: set[str] = set()
    for attr in ADDRESS_ATTRIBUTES["legal_entity"]:
        keys = place_keys(row.get(attr), "building")
        stored.extend(f"a|{k}" for k in keys.stored)
        # the same building, whether or not either side wrote the district: an address only
        # confirms or contradicts a name here, it never finds a candidate by itself
        addresses.update(f"a|{k}" for k in keys.stored if k.startswith(f"{WILD}|"))
    return stored, probes, addresses


def _place_keys(row: dict[str, str | None], entity_type: str) -> tuple[list[str], str | None]:
    keys = place_keys(row.get("address"), entity_type)
    return [f"p|{k}" for k in keys.stored], (f"p|{keys.probe}" if keys.probe else None)


def _store_keys(
    session: Session, entity_type: str, records: pl.DataFrame, places: tuple[str, ...]
) -> None:
    rows: set[tuple[str, int]] = set()
    for row in records.iter_rows(named=True):
        if entity_type == EntityType.legal_entity.value:
            stored, _, _ = _organisation_keys(row, places)
        else:
            stored, _ = _place_keys(row, entity_type)
        rows.update((k[:300], row["record_id"]) for k in stored)
    bulk_insert(
        session.connection(),
        "match_key",
        ["key", "record_id"],
        sorted(rows),
        {"entity_type": entity_type},
    )


def _found(session: Session, entity_type: str, keys: Iterable[str]) -> dict[str, dict[int, int]]:
    """key → {golden_id: its lowest record id} of the linked records stored under each key."""
    connection = session.connection()
    # a primary key: whichever side SQLite's planner puts outside, the other is searched
    table = temp_table(
        connection, "_gw_probe", {"k": "TEXT PRIMARY KEY"}, ((k,) for k in set(keys))
    )
    rows = connection.exec_driver_sql(
        f"SELECT m.key, r.golden_id, min(r.id) FROM {table} t CROSS JOIN match_key m"
        " CROSS JOIN source_record r WHERE m.key = t.k AND r.id = m.record_id"
        f" AND m.entity_type = '{entity_type}' AND r.golden_id IS NOT NULL"
        " GROUP BY m.key, r.golden_id"
    ).all()
    found: dict[str, dict[int, int]] = defaultdict(dict)
    for key, golden, record in rows:
        found[key][int(golden)] = int(record)
    return found


def _kept_apart(session: Session, entity_type: str) -> dict[int, set[int]]:
    """record → golden records a steward kept it apart from (through the other record's link)."""
    rows = (
        session.connection()
        .exec_driver_sql(
            "SELECT d.record_id, r.golden_id FROM link_decision d"
            " JOIN source_record r ON r.id = d.other_id"
            f" WHERE d.entity_type = '{entity_type}' AND d.decision = 'keep_apart'"
            " AND r.golden_id IS NOT NULL"
        )
        .all()
    )
    apart: dict[int, set[int]] = defaultdict(set)
    for record, golden in rows:
        apart[int(record)].add(int(golden))
    return apart


def _open_items(session: Session, entity_type: str) -> set[int]:
    rows = session.execute(
        select(ReviewItem.record_id).where(
            ReviewItem.entity_type == entity_type, ReviewItem.status == "open"
        )
    ).all()
    return {r[0] for r in rows}


Verdicts = dict[int, tuple[str, int | None, int | None, str]]


def _judge_organisations(
    session: Session, waiting: pl.DataFrame, places: tuple[str, ...]
) -> Verdicts:
    entity_type = EntityType.legal_entity.value
    probes = {}
    for row in waiting.iter_rows(named=True):
        _, names, own = _organisation_keys(row, places)
        probes[row["record_id"]] = (names, own)
    found = _found(session, entity_type, (k for names, _ in probes.values() for k in names))
    candidates = {g for hits in found.values() for g in hits}
    addresses = _golden_addresses(session, candidates)
    apart = _kept_apart(session, entity_type)
    verdicts: Verdicts = {}
    for record, (names, own) in probes.items():
        exact = [h for k in names if k.startswith("x|") for h in found.get(k, {}).items()]
        loose = [h for k in names if k.startswith("l|") for h in found.get(k, {}).items()]
        v = judge(
            exact=exact,
            loose=loose,
            addresses=own,
            candidate_addresses=addresses,
            kept_apart=apart.get(record, set()),
        )
        if v.action != "none":
            verdicts[record] = (v.action, v.golden_id, v.other_record, v.reason)
    return verdicts


def _golden_addresses(session: Session, golden_ids: set[int]) -> dict[int, set[str]]:
    """golden id → every address key any of its linked legal entity records is stored under."""
    if not golden_ids:
        return {}
    connection = session.connection()
    table = temp_table(
        connection, "_gw_cands", {"k": "BIGINT PRIMARY KEY"}, ((g,) for g in golden_ids)
    )
    rows = connection.exec_driver_sql(
        # CROSS JOIN: SQLite starts from the candidates (see registry.service._prior_claims)
        f"SELECT r.golden_id, m.key FROM {table} t CROSS JOIN source_record r"
        " CROSS JOIN match_key m WHERE r.golden_id = t.k AND r.entity_type = 'legal_entity'"
        " AND m.record_id = r.id AND m.entity_type = r.entity_type"
        " AND m.key >= 'a|' AND m.key < 'a}'"  # the address keys, 'a|…'
    ).all()
    out: dict[int, set[str]] = defaultdict(set)
    for golden, key in rows:
        out[int(golden)].add(key)
    return out


def _judge_places(session: Session, entity_type: str, waiting: pl.DataFrame) -> Verdicts:
    probes = {}
    for row in waiting.iter_rows(named=True):
        _, probe = _place_keys(row, entity_type)
        if probe:
            probes[row["record_id"]] = probe
    found = _found(session, entity_type, probes.values())
    apart = _kept_apart(session, entity_type)
    verdicts: Verdicts = {}
    for record, probe in probes.items():
        v = judge_place(found.get(probe, {}), apart.get(record, set()))
        if v.action != "none":
            reason = "same address" if v.action == "link" else "several places at this address"
            verdicts[record] = (v.action, v.golden_id, v.other_record, reason)
    return verdicts


def _queue(
    session: Session, entity_type: str, run_id: int, pairs: list[tuple[int, int | None]]
) -> int:
    """Add review items for pairs not queued before."""
    known = {
        (r, o)
        for r, o in session.execute(
            select(ReviewItem.record_id, ReviewItem.other_id).where(
                ReviewItem.entity_type == entity_type
            )
        ).all()
    }
    now = clock.now()
    fresh = [(r, o) for r, o in pairs if o is not None and (r, o) not in known]
    for record, other in fresh:
        session.add(
            ReviewItem(
                entity_type=entity_type,
                kind="uncertain",
                record_id=record,
                other_id=other,
                status="open",
                run_id=run_id,
                created_at=now,
            )
        )
    session.flush()
    return len(fresh)


def apply_decision(session: Session, *, item: ReviewItem, accept: bool) -> None:
    """A steward's decision on a legal entity, building or room item, applied now.

    Accepting links the record to the other record's golden record; rejecting keeps it apart
    from that golden record in every later run (the link decision) and unlinks it if it was.
    """
    entity = EntityType(item.entity_type)
    rows = (
        session.connection()
        .exec_driver_sql(
            "SELECT id, golden_id, entity_key FROM source_record"
            f" WHERE id IN ({int(item.record_id)}, {int(item.other_id)})"
        )
        .all()
    )
    golden = {i: g for i, g, _ in rows}
    keys = {i: k for i, _, k in rows}
    if accept and keys.get(item.record_id) and keys.get(item.other_id) != keys[item.record_id]:
        raise GridweaveError(
            f"record {item.record_id} carries its own valid {key_attribute(entity).name}"
            f" ({keys[item.record_id]}): it cannot join another {entity.value}",
            hint="two valid keys are two golden records; reject the item",
        )
    mine, theirs = golden.get(item.record_id), golden.get(item.other_id)
    if accept and theirs is not None and mine != theirs:
        target: int | None = theirs
    elif not accept and mine is not None and mine == theirs:
        target = None
    else:
        return
    session.connection().exec_driver_sql(
        "UPDATE source_record SET golden_id = "
        + ("NULL" if target is None else str(int(target)))
        + f" WHERE id = {int(item.record_id)}"
    )
    touched = [g for g in (mine, theirs) if g is not None]
    rebuild_linked(
        session, entity=entity, golden_ids=touched, priorities=source_priorities(session)
    )


def unlink(session: Session, *, record_id: int, actor: str, note: str | None = None) -> int:
    """Take a legal entity, building or room record without a valid key out of the golden
    record it was linked to (a wrong link), and keep it apart from that one in later runs.

    Returns the golden id it left. A record with a valid key belongs to its key's golden record.
    """
    row = (
        session.connection()
        .exec_driver_sql(
            "SELECT entity_type, entity_key, golden_id FROM source_record"
            f" WHERE id = {int(record_id)}"
        )
        .first()
    )
    if row is None:
        raise NotFound(f"no source record {record_id}")
    entity_type, key, golden = row
    if entity_type not in ENTITY_TYPES:
        raise GridweaveError(
            f"record {record_id} is a {entity_type}",
            hint="`gridweave review split` takes people's records out of a golden person",
        )
    if key is not None:
        raise GridweaveError(
            f"record {record_id} carries its own valid key {key}: it belongs to that {entity_type}"
        )
    if golden is None:
        raise GridweaveError(f"record {record_id} is not linked to any {entity_type}")
    anchor = (
        session.connection()
        .exec_driver_sql(
            f"SELECT min(id) FROM source_record WHERE entity_type = '{entity_type}'"
            f" AND golden_id = {int(golden)} AND entity_key IS NOT NULL"
        )
        .scalar()
    )
    if anchor is None:  # a golden record is made for a key, so one of its records carries it
        raise GridweaveError(f"{entity_type} {golden} has no record with its key")
    session.add(
        LinkDecision(
            entity_type=entity_type,
            record_id=record_id,
            other_id=int(anchor),
            decision="keep_apart",
            origin="split",
            decided_by=actor,
            decided_at=clock.now(),
            note=note,
        )
    )
    session.connection().exec_driver_sql(
        f"UPDATE source_record SET golden_id = NULL WHERE id = {int(record_id)}"
    )
    rebuild_linked(
        session,
        entity=EntityType(entity_type),
        golden_ids=[int(golden)],
        priorities=source_priorities(session),
    )
    session.flush()
    return int(golden)
