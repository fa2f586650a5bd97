"""Register source contracts and ingest extract files: atomic, idempotent batches."""

from __future__ import annotations

import gc
import hashlib
import itertools
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import orjson
import polars as pl
from sqlalchemy import Connection, Engine, func, null, select
from sqlalchemy.orm import Session

from gridweave.areas.service import grid_codes, grid_locator
from gridweave.core import clock
from gridweave.core.bulk import (
    bulk_insert,
    images_ahead,
    insert_frame,
    read_frame,
    reserve_ids,
    temp_table,
    timestamp_text,
)
from gridweave.core.crypto import Keyring
from gridweave.core.database import bulk_transaction, keyring_of, transaction
from gridweave.core.errors import GridweaveError, NotFound
from gridweave.ingest.contracts import Contract, load_contract, parse_contract
from gridweave.ingest.models import Batch, QuarantinedRow, Source, SourceRecord
from gridweave.ingest.pipeline import (
    CLAIM,
    KNOWN_ROWS,
    RECORD_COLUMNS,
    VALUE,
    Context,
    EarlierChunks,
    Staged,
    found_in,
    keyed,
    linked_types,
    matches_rooms,
    not_found_in,
    places_in_grids,
    recognises_unchanged_rows,
    record_ids,
    row_seed,
    stage_chunk,
)
from gridweave.ingest.readers import BadRow, Chunk, read_extract
from gridweave.registry.attributes import EntityType
from gridweave.registry.models import GOLDEN_TABLES
from gridweave.registry.service import (
    RefreshCounts,
    refresh_golden,
    room_index,
    source_priorities,
)


def register_source(session: Session, *, path: Path) -> tuple[Source, str]:
    """Register a contract file, or update the registered one of the same name.

    Returns the source and what happened: "added", "updated" or "unchanged".
    """
    contract = load_contract(path)
    text = path.read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()
    now = clock.now()
    source = session.scalar(select(Source).where(Source.name == contract.name))
    if source is not None and source.contract_sha256 == digest:
        return source, "unchanged"
    outcome = "updated" if source is not None else "added"
    if source is None:
        source = Source(name=contract.name, registered_at=now)
        session.add(source)
    source.title = contract.title
    source.department_code = contract.department.code
    source.department_name = contract.department.name
    source.topic = contract.topic
    source.update_frequency = contract.catalog.update_frequency
    source.sharing = contract.catalog.sharing.value
    source.contract_yaml = text
    source.contract_sha256 = digest
    source.updated_at = now
    session.flush()
    return source, outcome


def get_source(session: Session, name: str) -> Source:
    """The registered source called `name`."""
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        known = session.scalars(select(Source.name).order_by(Source.name)).all()
        raise NotFound(
            f"no source named '{name}' is registered",
            hint=f"registered: {', '.join(known) or 'none'}; add one with `gridweave sources add`",
        )
    return source


def list_sources(session: Session) -> list[tuple[Source, int]]:
    """Every registered source with its number of completed batches, by name."""
    done = (
        select(Batch.source_id, func.count().label("n"))
        .where(Batch.status == "completed")
        .group_by(Batch.source_id)
        .subquery()
    )
    rows = session.execute(
        select(Source, func.coalesce(done.c.n, 0))
        .outerjoin(done, done.c.source_id == Source.id)
        .order_by(Source.name)
    )
    return list(rows)


def contract_of(source: Source) -> Contract:
    return parse_contract(source.contract_yaml, f"source '{source.name}'")


def file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


@dataclass
class BatchReport:
    """What one ingestion did, for the CLI and the demo."""

    source: str
    file: str
    batch_id: int | None
    status: str  # completed | already_ingested
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    rows_unchanged: int = 0  # exactly as the source last sent them: not cleaned again
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    records_new: int = 0
    records_unchanged: int = 0
    records_flagged: int = 0  # kept, with a doubtful value named in their flags
    golden: dict[str, RefreshCounts] = field(default_factory=dict)
    seconds: float = 0.0


Progress = Callable[[int, int, int], None]  # bytes read, file size, rows read


def _reason_kind(reason: str) -> str:
    """Group quarantine reasons for the report: the column and the kind of problem."""
    head, _, rest = reason.partition(": ")
    if head.startswith("line "):
        return rest.split(",")[0] if "fields" not in reason else "wrong number of fields"
    kind = rest.split("'")[0].strip() if "'" in rest else rest
    return f"{head}: {kind}".strip()


def ingest_file(
    engine: Engine,
    *,
    path: Path,
    source_name: str,
    extracted_at: datetime | None = None,
    chunk_rows: int = 100_000,
    progress: Progress | None = None,
) -> BatchReport:
    """Ingest one extract file for a registered source, all or nothing.

    The same file ingested again adds nothing. Rows that fail validation are quarantined with
    their reasons; records identical to the source's latest version are counted, not stored
    again. A file that cannot be read as its contract says is refused whole, and the refusal
    is recorded.
    """
    started = clock.now()
    digest, size = file_digest(path) if path.is_file() else ("", 0)
    try:
        with bulk_transaction(engine) as session:
            return _ingest(
                session,
                path,
                source_name,
                digest,
                size,
                extracted_at,
                chunk_rows,
                progress,
                started,
            )
    except GridweaveError as exc:
        _record_refusal(engine, path, source_name, digest, size, started, str(exc))
        raise


def _ingest(
    session: Session,
    path: Path,
    source_name: str,
    digest: str,
    size: int,
    extracted_at: datetime | None,
    chunk_rows: int,
    progress: Progress | None,
    started: datetime,
) -> BatchReport:
    source = get_source(session, source_name)
    contract = contract_of(source)
    done = session.scalar(
        select(Batch).where(
            Batch.source_id == source.id, Batch.file_sha256 == digest, Batch.status == "completed"
        )
    )
    if done is not None:
        return BatchReport(source.name, str(path), done.id, "already_ingested")
    batch = Batch(
        source_id=source.id,
        file_name=str(path),
        file_sha256=digest,
        file_bytes=size,
        status="completed",
        extracted_at=extracted_at or started,
        started_at=started,
    )
    session.add(batch)
    session.flush()
    connection = session.connection()
    dialect = connection.dialect.name
    keyring = keyring_of(session)
    rows_hashed = recognises_unchanged_rows(contract)
    gridded = places_in_grids(contract)
    known, known_claims, known_rows = _latest(session, source.id, contract, rows_hashed)
    ctx = Context(
        extracted_at=batch.extracted_at,
        room_index=room_index(session) if matches_rooms(contract) else Context.no_rooms(),
        locate_grid=grid_locator(session) if gridded else None,
        grid_codes=grid_codes(session) if gridded else frozenset(),
        keyring=keyring,
        row_seed=row_seed(source.contract_sha256, keyring) if rows_hashed else None,
        known_rows=known_rows.select(*KNOWN_ROWS, "key"),
    )
    priorities = source_priorities(session)
    made = GoldenMade.at_start(session)
    report = BatchReport(source.name, str(path), batch.id, "completed")
    reasons: Counter[str] = Counter()
    with _gc_paused():
        chunks = _shaped(read_extract(path, contract, chunk_rows), size, chunk_rows)
        for chunk, staged in _staged_ahead(chunks, contract, ctx):
            records = staged.records
            fresh = not_found_in(records, ["record_key", "record_hash"], known)
            fresh = not_found_in(fresh, CLAIM, known_claims)
            report.records_unchanged += records.height - fresh.height
            report.records_new += fresh.height
            report.records_flagged += int(fresh["flags"].is_not_null().sum())
            fresh = fresh.with_columns(
                pl.Series("id", reserve_ids(connection, "source_record", fresh.height), pl.Int64),
                pl.lit(source.id, pl.Int64).alias("source_id"),
            )
            # each golden and source-record image is built while the next is worked out
            with images_ahead(connection):
                fresh = _link_golden(session, fresh, priorities, report.golden, made)
                _write_records(connection, fresh, source.id, batch.id, dialect)
            _renew_row_hashes(connection, staged.rows, known_rows, fresh, contract)
            report.rows_unchanged += staged.rows_unchanged
            quarantined = _quarantine_frame(staged.quarantined, chunk.bad_rows)
            for reason_list in quarantined["reasons"].to_list():
                reasons.update(_reason_kind(r) for r in reason_list)
            _write_quarantine(connection, quarantined, source.id, batch.id, ctx.keyring)
            report.rows_read += chunk.frame.height + len(chunk.bad_rows)
            report.rows_quarantined += quarantined.height
            if progress:
                progress(chunk.bytes_read, size, report.rows_read)
    report.rows_accepted = report.rows_read - report.rows_quarantined
    report.quarantine_reasons = dict(reasons.most_common())
    finished = clock.now()
    batch.finished_at = finished
    batch.rows_read = report.rows_read
    batch.rows_accepted = report.rows_accepted
    batch.rows_quarantined = report.rows_quarantined
    batch.records_new = report.records_new
    batch.records_unchanged = report.records_unchanged
    batch.rows_unchanged = report.rows_unchanged
    report.seconds = (finished - started).total_seconds()
    batch.report = {
        "quarantine_reasons": report.quarantine_reasons,
        "golden": {k: vars(v) for k, v in report.golden.items()},
    }
    return report


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch writes: the rows it hands the driver are
    millions of tuples (no cycles among them), and every collection they set off walks all of
    them (~3 % of an ingest's CPU). Reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


STAGED_AHEAD = 2


def _staged_ahead(
    chunks: Iterator[Chunk], contract: Contract, ctx: Context
) -> Iterator[tuple[Chunk, Staged]]:
    """Read and stage the next chunks in a thread while the caller writes this one.

    Staging is polars work that releases the GIL; writing is SQLite's. Up to STAGED_AHEAD
    chunks wait staged: with one, staging finished a chunk before the writer had and waited,
    and a core stood idle (~0.2-0.5 s a chunk of a police register). A problem found while
    reading is raised here, in the caller's thread, so the batch's transaction rolls back.
    """
    done = object()
    ahead: queue.Queue[object] = queue.Queue(maxsize=STAGED_AHEAD)
    stop = threading.Event()
    earlier = EarlierChunks()

    def produce() -> None:
        try:
            for chunk in chunks:
                item = (chunk, stage_chunk(chunk, contract, ctx, earlier))
                while not stop.is_set():
                    try:
                        ahead.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ahead.put(done)
        except BaseException as exc:  # handed to the caller, who raises it
            ahead.put(exc)

    worker = threading.Thread(target=produce, name="gridweave-stage", daemon=True)
    worker.start()
    try:
        while True:
            item = ahead.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=5)


def _shaped(chunks: Iterator[Chunk], size: int, chunk_rows: int) -> Iterator[Chunk]:
    """The reader's chunks, cut smaller where one of the batch's two threads would otherwise
    work alone.

    Nothing is written until the first chunk is staged, so it is cut to a tenth: writing
    starts after ~0.3 s of staging instead of ~3 s. When staging is done, the writer still has
    the chunk it is writing and those staged ahead of it, and writes them on one core of two:
    so the chunks that reach the end of the file (`size` bytes) are cut to quarters, and what
    is left to write alone is a quarter of what it was (a million-row police register: ~1 s
    instead of ~3 s).
    """
    quarter = max(1, chunk_rows // 4)
    for number, chunk in enumerate(chunks):
        height = chunk.frame.height
        if height == 0:  # rows that could not be read, and none that could
            yield chunk
            continue
        if number == 0:
            bounds = [0, max(1, height // 10), height]
        elif chunk.bytes_read >= size:
            bounds = [*range(0, height, quarter), height]
        else:
            bounds = [0, height]
        for start, end in itertools.pairwise(bounds):
            if end > start:
                bad = chunk.bad_rows if start == 0 else []
                yield Chunk(chunk.frame.slice(start, end - start), bad, chunk.bytes_read)


def _latest(
    session: Session, source_id: int, contract: Contract, rows_hashed: bool
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """What this source said last, read in one pass over its records: the hash of each record
    key's newest version; the newest claim about each entity that rows link to; and (if the
    source's rows are hashed) per record id, the hash of its row and the id of its newest
    record (KNOWN_ROWS and "id"). Each is `keyed`, for every chunk to be looked up in.

    A household's claim is made by its first member's row; when that member leaves, the next
    member's row makes the same claim under another record key. It is not new: the source
    already says exactly this about the household.
    """
    frame = read_frame(
        session.connection(),
        select(
            SourceRecord.id,
            SourceRecord.record_key,
            SourceRecord.record_hash,
            SourceRecord.entity_type,
            SourceRecord.entity_key,
            SourceRecord.row_hash if rows_hashed else null(),
        )
        .where(SourceRecord.source_id == source_id)
        .order_by(SourceRecord.id),
        {
            "id": pl.Int64,
            **dict.fromkeys(["record_key", "record_hash", *CLAIM[:2], "row_hash"], pl.String),
        },
    )
    hashes = frame.select("record_key", "record_hash").unique("record_key", keep="last")
    types = linked_types(contract)
    claims = (
        frame.filter(pl.col("entity_type").is_in(types) & pl.col("entity_key").is_not_null())
        .select(CLAIM)
        .unique(["entity_type", "entity_key"], keep="last")
    )
    known_rows = pl.DataFrame(schema={**KNOWN_ROWS, "id": pl.Int64})
    if rows_hashed:
        known_rows = frame.select(record_ids(contract), "row_hash", "id").unique("rid", keep="last")
    return (
        keyed(hashes, ["record_key", "record_hash"]),
        keyed(claims, CLAIM),
        keyed(known_rows, ["rid"]),
    )


def _renew_row_hashes(
    connection: Connection,
    examined: pl.DataFrame,
    known_rows: pl.DataFrame,
    fresh: pl.DataFrame,
    contract: Contract,
) -> None:
    """Give the newest stored record of each row cleaned again and found unchanged its row's
    hash now, so the row is recognised unchanged next time: a row whose cells changed but
    whose cleaned values did not (a padded record id), or one stored before rows were hashed.
    A row that made new records has its hash on them already."""
    stale = (
        found_in(examined, ["rid"], known_rows.rename({"row_hash": "row_hash_stored"}))
        .filter(pl.col("row_hash").ne_missing(pl.col("row_hash_stored")))
        .join(fresh.select(record_ids(contract)), on="rid", how="anti")
    )
    if stale.height == 0:
        return
    table = temp_table(
        connection,
        "_gw_row_hash",
        {"id": "BIGINT PRIMARY KEY", "row_hash": "TEXT"},
        stale.select("id", "row_hash").iter_rows(),
    )
    connection.exec_driver_sql(
        f"UPDATE source_record SET row_hash = t.row_hash FROM {table} AS t"
        " WHERE source_record.id = t.id"
    )


ENTITY_KEY = ["entity_key"]  # what GoldenMade looks golden records up by


@dataclass
class GoldenMade:
    """The golden keys this batch made, of each type whose table was empty when an SQLite
    batch began: every key such a table holds is one of them (the batch holds the file's write
    lock from its first write, the batch's own row, until it commits). The batch looks them
    up here instead of asking the key index (~1 µs a key: a million a million-row first load).
    On PostgreSQL, where other batches write beside it, the index is always asked."""

    ids: dict[str, pl.DataFrame]  # entity type → entity_key, golden_id (`keyed`)

    @classmethod
    def at_start(cls, session: Session) -> GoldenMade:
        if session.connection().dialect.name != "sqlite":
            return cls({})
        none = keyed(
            pl.DataFrame(schema={"entity_key": pl.String, "golden_id": pl.Int64}), ENTITY_KEY
        )
        return cls(
            {
                name: none
                for name, table in GOLDEN_TABLES.items()
                if session.scalar(select(table.id).limit(1)) is None
            }
        )

    def existing(self, entity_type: str, keys: pl.Series) -> pl.DataFrame | None:
        """entity_key → golden id of `keys` made before; None: ask the key index."""
        made = self.ids.get(entity_type)
        if made is None:
            return None
        wanted = keys.unique().to_frame("entity_key")
        return found_in(wanted, ENTITY_KEY, made).select("entity_key", "golden_id")

    def add(self, entity_type: str, ids: pl.DataFrame) -> None:
        """Remember the keys of `ids` (entity_key → golden id) not made before."""
        made = self.ids.get(entity_type)
        if made is not None:
            new = not_found_in(ids.select("entity_key", "golden_id"), ENTITY_KEY, made)
            self.ids[entity_type] = pl.concat([made, keyed(new, ENTITY_KEY)])


def _link_golden(
    session: Session,
    fresh: pl.DataFrame,
    priorities: pl.DataFrame,
    totals: dict[str, RefreshCounts],
    made: GoldenMade,
) -> pl.DataFrame:
    """Refresh the golden records these new source records speak of; set their golden_id."""
    fresh = fresh.with_columns(pl.lit(None, pl.Int64).alias("golden_id"))
    with_keys = fresh.filter(pl.col("entity_key").is_not_null())
    for entity_type in with_keys["entity_type"].unique(maintain_order=True).to_list():
        entity = EntityType(entity_type)
        mine = with_keys.filter(pl.col("entity_type") == entity_type)
        values = [c for c in mine.columns if c.startswith(VALUE)]
        claims = mine.select(
            "id",
            "source_id",
            "observed_at",
            "entity_key",
            *[pl.col(c).alias(c.removeprefix(VALUE)) for c in values],
        )
        counts, ids = refresh_golden(
            session,
            entity=entity,
            claims=claims,
            priorities=priorities,
            existing=made.existing(entity_type, claims["entity_key"]),
        )
        made.add(entity_type, ids)
        total = totals.setdefault(entity_type, RefreshCounts())
        total.created += counts.created
        total.updated += counts.updated
        linked = mine.select("id", "entity_key").join(ids, on="entity_key").drop("entity_key")
        fresh = fresh.update(linked, on="id")
    return fresh


def _write_records(
    connection: Connection, records: pl.DataFrame, source_id: int, batch_id: int, dialect: str
) -> None:
    if records.height == 0:
        return
    out = records.with_columns(timestamp_text(pl.col("observed_at"), dialect))
    columns = ["id", "golden_id", *(c for c in RECORD_COLUMNS if c != "entity_type")]
    for (entity_type,), part in out.group_by("entity_type", maintain_order=True):
        constants = {"source_id": source_id, "batch_id": batch_id, "entity_type": entity_type}
        insert_frame(connection, "source_record", part.select(columns), constants)


def _quarantine_frame(staged: pl.DataFrame, bad_rows: list[BadRow]) -> pl.DataFrame:
    extra = pl.DataFrame(
        {
            "line_number": [b.line for b in bad_rows],
            "record_key": [None] * len(bad_rows),
            "row": [orjson.dumps(b.row).decode() for b in bad_rows],
            "reasons": [[b.problem] for b in bad_rows],
        },
        schema=staged.schema,
    )
    return pl.concat([staged, extra]).sort("line_number")


QUARANTINE_FIELD = "quarantined_row.row"  # the associated data of a sealed quarantined row


def _write_quarantine(
    connection: Connection,
    quarantined: pl.DataFrame,
    source_id: int,
    batch_id: int,
    keyring: Keyring | None,
) -> None:
    if quarantined.height == 0:
        return

    def stored(row: str) -> str:
        # the department's whole raw row, whatever columns hold ids or phones: one ciphertext,
        # kept as a JSON string in the JSON column
        if keyring is None:
            return row
        return orjson.dumps(keyring.encrypt(row, QUARANTINE_FIELD)).decode()

    rows = (
        (batch_id, source_id, line, key, stored(row), orjson.dumps(reasons).decode(), "open")
        for line, key, row, reasons in quarantined.iter_rows()
    )
    bulk_insert(
        connection,
        "quarantined_row",
        ["batch_id", "source_id", "line_number", "record_key", "row", "reasons", "status"],
        rows,
    )


def _record_refusal(
    engine: Engine,
    path: Path,
    source_name: str,
    digest: str,
    size: int,
    started: datetime,
    error: str,
) -> None:
    """Keep a line in the batch log for a refused file (when its source exists)."""
    with transaction(engine) as session:
        source = session.scalar(select(Source).where(Source.name == source_name))
        if source is None:
            return
        session.add(
            Batch(
                source_id=source.id,
                file_name=str(path),
                file_sha256=digest,
                file_bytes=size,
                status="refused",
                error=error,
                extracted_at=started,
                started_at=started,
                finished_at=clock.now(),
            )
        )


def list_batches(session: Session, source_name: str | None = None) -> list[Batch]:
    query = select(Batch).order_by(Batch.id)
    if source_name:
        query = query.where(Batch.source_id == get_source(session, source_name).id)
    return list(session.scalars(query))


def quarantined_values(keyring: Keyring, row: object) -> object:
    """A quarantined row's columns, opened if it is stored sealed."""
    if isinstance(row, str):
        return orjson.loads(keyring.decrypt(row, QUARANTINE_FIELD))
    return row


def list_quarantine(
    session: Session,
    *,
    source_name: str | None = None,
    batch_id: int | None = None,
    limit: int = 50,
) -> tuple[list[tuple[QuarantinedRow, str]], int]:
    """Open quarantined rows (newest batch first) with their source names, and the total."""
    query = select(QuarantinedRow, Source.name).join(Source, Source.id == QuarantinedRow.source_id)
    count = select(func.count()).select_from(QuarantinedRow)
    if source_name:
        sid = get_source(session, source_name).id
        query = query.where(QuarantinedRow.source_id == sid)
        count = count.where(QuarantinedRow.source_id == sid)
    if batch_id is not None:
        query = query.where(QuarantinedRow.batch_id == batch_id)
        count = count.where(QuarantinedRow.batch_id == batch_id)
    rows = (
        session.execute(
            query.order_by(QuarantinedRow.batch_id.desc(), QuarantinedRow.line_number).limit(limit)
        )
        .tuples()
        .all()
    )
    return list(rows), session.scalar(count) or 0
