"""Fast bulk writes that bypass the ORM: COPY on PostgreSQL, executemany or a database image on
SQLite; and big reads straight into a DataFrame.

Values must already be in the column's storage form: JSON columns as JSON text, timestamps as
UTC (see `timestamp_text`), dates as ISO strings.
"""

from __future__ import annotations

import mmap
import os
import shutil
import sqlite3
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import orjson
import polars as pl
from sqlalchemy import Connection, Executable

SQLITE_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%6f"  # how SQLAlchemy stores DateTime in SQLite


def read_frame(
    connection: Connection,
    query: Executable,
    schema: Mapping[str, pl.DataType | type[pl.DataType]],
) -> pl.DataFrame:
    """The rows of `query` as a DataFrame, fetched from the driver's cursor: no SQLAlchemy row
    per row (1.4 M source records: ~4 s against ~11 s through the ORM). Only for columns whose
    values need no conversion by SQLAlchemy (numbers, text)."""
    result = connection.execute(query)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    return pl.DataFrame(rows, schema=dict(schema), orient="row")


def timestamp_text(column: pl.Expr, dialect: str) -> pl.Expr:
    """Format a UTC Datetime column the way the dialect's driver expects it as text."""
    if dialect == "sqlite":
        return column.dt.strftime(SQLITE_TIMESTAMP)
    return column.dt.strftime("%Y-%m-%dT%H:%M:%S.%6f+00:00")


def bulk_insert(
    connection: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert many rows into `table` inside the connection's current transaction.

    `constants` are the same for every row: bound once, not once per row.
    """
    constants = constants or {}
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        names = [*constants, *columns]
        cols = ", ".join(f'"{c}"' for c in names)
        fixed = tuple(constants.values())
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row((*fixed, *row))
        return
    cols = ", ".join(f'"{c}"' for c in [*constants, *columns])
    marks = ", ".join([*(_literal(v) for v in constants.values()), *("?" for _ in columns)])
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
    finally:
        cursor.close()


# below this, binding row by row costs less than making an image (ten text columns: ~10 ms each
# at 2,000 rows; 1 against 3-7 ms at 200; 30-39 against 23-27 ms at 5,000)
IMAGE_MIN_ROWS = 2_000
IMAGE_SCHEMA = "gridweave_rows"  # where a connection holds the image it is inserting from


def insert_frame(
    connection: Connection,
    table: str,
    frame: pl.DataFrame,
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert every row of `frame` (columns named as the table's) into `table`, inside the
    connection's current transaction.

    On SQLite a big frame does not go through Python at all: polars hands its Arrow buffers to
    the ADBC SQLite driver, which writes them into a scratch database file; that file's bytes are
    loaded into an in-memory schema of this connection (`deserialize`), and one
    `INSERT … SELECT` copies the rows. Binding each value from a Python object costs more than
    all of that (decision 0012). The scratch file belongs to the driver's own copy of SQLite
    alone: the connection reads only its bytes, never the file.
    """
    _check_storable(frame)
    if _through_image(connection, frame):
        _copy_from_image(connection, table, frame, constants or {})
    elif frame.height:
        bulk_insert(connection, table, frame.columns, frame.rows(), constants)


def upsert_frame(
    connection: Connection,
    table: str,
    frame: pl.DataFrame,
    key: str,
    keep: Sequence[str] = ("id", "created_at"),
    constants: Mapping[str, Any] | None = None,
) -> None:
    """`bulk_upsert` of a DataFrame's rows; on SQLite a big frame goes through an image, as in
    `insert_frame`."""
    _check_storable(frame)
    if _through_image(connection, frame):
        every = [*(constants or {}), *frame.columns]
        conflict = _on_conflict(every, key, keep)
        _copy_from_image(connection, table, frame, constants or {}, conflict)
    elif frame.height:
        bulk_upsert(connection, table, frame.columns, key, frame.rows(), keep, constants)


def _check_storable(frame: pl.DataFrame) -> None:
    unready = [c for c, t in frame.schema.items() if not isinstance(t, _STORABLE)]
    if unready:
        raise TypeError(
            f"columns {unready} are not in storage form (numbers, text, booleans, dates):"
            " format timestamps with timestamp_text, and JSON as text, first"
        )


def _through_image(connection: Connection, frame: pl.DataFrame) -> bool:
    return (
        connection.dialect.name == "sqlite"
        and frame.height >= IMAGE_MIN_ROWS
        # a Python built against an SQLite without it
        and hasattr(connection.connection.driver_connection, "deserialize")
    )


def _copy_from_image(
    connection: Connection,
    table: str,
    frame: pl.DataFrame,
    constants: Mapping[str, Any],
    conflict: str = "",
) -> None:
    names = ", ".join(f'"{c}"' for c in [*constants, *frame.columns])
    values = ", ".join(
        [*(_literal(v) for v in constants.values()), *(f'"{c}"' for c in frame.columns)]
    )
    # WHERE true: without it SQLite would read ON CONFLICT as the join's ON
    copy = (
        f"INSERT INTO main.{table} ({names}) SELECT {values} FROM {IMAGE_SCHEMA}.rows"
        f" WHERE true {conflict}"
    )
    ahead: _Ahead | None = connection.info.get(_AHEAD)
    if ahead is not None:
        ahead.copies.append((ahead.builder.submit(_build_image, frame), copy))
        return
    _copy(connection, _build_image(frame), copy)


def _copy(connection: Connection, folder: Path, copy: str) -> None:
    """Run `copy` (an INSERT … SELECT from the image's `rows`) on the image in `folder`, then
    remove the folder."""
    raw = cast(sqlite3.Connection, connection.connection.driver_connection)
    _attach_image_schema(raw)
    try:
        # a map of the file: `deserialize` copies it once, where reading it first would copy
        # it twice
        with (
            (folder / "rows.sqlite").open("rb") as file,
            mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as image,
        ):
            raw.deserialize(image, name=IMAGE_SCHEMA)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    try:
        raw.execute(copy)
    finally:
        raw.deserialize(_EMPTY_IMAGE, name=IMAGE_SCHEMA)  # give the image's memory back


@dataclass
class _Ahead:
    builder: ThreadPoolExecutor
    copies: deque[tuple[Future[Path], str]] = field(default_factory=deque)  # in the order asked


_AHEAD = "gridweave.images_ahead"  # the connection's _Ahead inside `images_ahead`


@contextmanager
def images_ahead(connection: Connection) -> Iterator[None]:
    """Inside the block, a big `insert_frame` or `upsert_frame` on SQLite only starts its
    image: the image is built on a thread of its own while the caller goes on (the ADBC driver
    lets go of the GIL), and the rows are copied from the images, in the order they were
    asked for, when the block ends. So the thread that writes spends its time on SQLite's
    copies, not on building images. Nothing inside the block may read the rows it writes (they
    are not there yet); small frames are still written at once. Elsewhere, and on PostgreSQL,
    every write happens at once."""
    if connection.dialect.name != "sqlite" or _AHEAD in connection.info:
        yield
        return
    ahead = _Ahead(ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridweave-image"))
    connection.info[_AHEAD] = ahead
    try:
        yield
        while ahead.copies:
            built, copy = ahead.copies.popleft()
            _copy(connection, built.result(), copy)
    finally:
        connection.info.pop(_AHEAD, None)
        ahead.builder.shutdown(wait=True, cancel_futures=True)
        for built, _ in ahead.copies:  # not copied: the block or a copy failed
            if not built.cancelled() and built.exception() is None:
                shutil.rmtree(built.result(), ignore_errors=True)


# what ADBC stores exactly as the sqlite3 module binds it (Date: ISO text, Boolean: 0/1)
_STORABLE = (
    pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32,
    pl.Float32, pl.Float64, pl.String, pl.Boolean, pl.Date, pl.Null,
)  # fmt: skip


def _attach_image_schema(raw: sqlite3.Connection) -> None:
    attached = {row[1] for row in raw.execute("PRAGMA database_list")}
    if IMAGE_SCHEMA not in attached:
        raw.execute(f"ATTACH DATABASE ':memory:' AS {IMAGE_SCHEMA}")


def _build_image(frame: pl.DataFrame) -> Path:
    """A new scratch folder holding `frame` as an SQLite database file, rows.sqlite, with the
    table `rows`; the caller removes the folder."""
    # imported here: the driver (and pyarrow, which it loads when present) costs every command
    # and API worker ~0.2 s at start, and most never insert this much
    import adbc_driver_sqlite.dbapi as adbc_sqlite

    frame = frame.with_columns(pl.col(pl.Null).cast(pl.String))  # a column of only nulls
    folder = Path(tempfile.mkdtemp(prefix="gridweave-rows-", dir=_scratch_dir(frame)))
    try:
        path = folder / "rows.sqlite"
        with adbc_sqlite.connect(str(path), autocommit=True) as scratch, scratch.cursor() as cur:
            # the largest pages: a third less of the driver's time than SQLite's default 4 KiB
            cur.execute("PRAGMA page_size=65536")
            cur.execute("PRAGMA journal_mode=OFF")  # a scratch file: nothing to recover
            cur.execute("PRAGMA synchronous=OFF")
            cur.adbc_ingest("rows", frame, mode="create")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


SHARED_MEMORY = Path("/dev/shm")


def _scratch_dir(frame: pl.DataFrame) -> str | None:
    """Where an image's scratch file goes: shared memory (Linux's tmpfs) when it has room for
    it, so that the 1-2 GB of images a million-row ingest makes are never written to a disk;
    else the system's temporary folder (None). "Room" is twice the frame's size: a container's
    /dev/shm is often only 64 MB."""
    try:
        free = os.statvfs(SHARED_MEMORY)
    except (OSError, AttributeError):  # no such folder; no statvfs (Windows)
        return None
    room = free.f_bavail * free.f_frsize
    if room < 2 * frame.estimated_size() or not os.access(SHARED_MEMORY, os.W_OK | os.X_OK):
        return None
    return str(SHARED_MEMORY)


def _empty_image() -> bytes:
    empty = sqlite3.connect(":memory:")
    try:
        empty.execute("CREATE TABLE rows (x)")
        return empty.serialize()
    finally:
        empty.close()


_EMPTY_IMAGE = _empty_image()


def _literal(value: Any) -> str:
    """A constant as SQL text (ints and plain strings only: these come from our own code)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"unsupported constant {value!r}")
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


def bulk_upsert(
    connection: Connection,
    table: str,
    columns: Sequence[str],
    key: str,
    rows: Sequence[Sequence[Any]],
    keep: Sequence[str] = ("id", "created_at"),
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert rows, or replace every column but `key` and `keep` where `key` already exists."""
    if not rows:
        return
    constants = constants or {}
    every = [*constants, *columns]
    cols = ", ".join(f'"{c}"' for c in every)
    conflict = _on_conflict(every, key, keep)
    if connection.dialect.name == "postgresql":
        stage = f"_stage_{table}"
        connection.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS)"
            " ON COMMIT DROP"
        )
        connection.exec_driver_sql(f"TRUNCATE {stage}")
        bulk_insert(connection, stage, columns, rows, constants)
        connection.exec_driver_sql(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} {conflict}"
        )
        return
    marks = ", ".join([*(_literal(v) for v in constants.values()), *("?" for _ in columns)])
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks}) {conflict}", rows)
    finally:
        cursor.close()


def _on_conflict(columns: Sequence[str], key: str, keep: Sequence[str]) -> str:
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != key and c not in keep)
    return f'ON CONFLICT ("{key}") DO UPDATE SET {updates}'


def empty_temp_table(connection: Connection, name: str, columns: dict[str, str]) -> str:
    """The temporary table `name` (column → SQL type), made if it does not exist and emptied;
    on PostgreSQL it is dropped at commit."""
    cols = ", ".join(f"{c} {t}" for c, t in columns.items())
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {name} ({cols}) ON COMMIT DROP"
        )
        connection.exec_driver_sql(f"TRUNCATE {name}")
    else:
        connection.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({cols})")
        connection.exec_driver_sql(f"DELETE FROM {name}")
    return name


def temp_table(
    connection: Connection, name: str, columns: dict[str, str], rows: Iterable[Sequence[Any]]
) -> str:
    """The temporary table `name` (column → SQL type) holding just `rows`, analysed."""
    empty_temp_table(connection, name, columns)
    bulk_insert(connection, name, list(columns), rows)
    connection.exec_driver_sql(f"ANALYZE {name}")
    return name


def key_table(connection: Connection, keys: Iterable[str]) -> str:
    """A temporary one-column table holding `keys`, to join against instead of a huge IN list.

    The keys travel as one parameter (a JSON array on SQLite, a text array on PostgreSQL) and
    the database unpacks them: no per-key round trip through the driver.
    """
    name = empty_temp_table(connection, "_gw_keys", {"k": "TEXT PRIMARY KEY"})
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            f"INSERT INTO {name} SELECT DISTINCT unnest(%(keys)s::text[])", {"keys": list(keys)}
        )
    else:
        connection.exec_driver_sql(
            f"INSERT OR IGNORE INTO {name} SELECT value FROM json_each(?)",
            (orjson.dumps(list(keys)).decode(),),
        )
    return name


def reserve_ids(connection: Connection, table: str, n: int) -> list[int]:
    """`n` fresh primary keys for `table`, so rows can be referred to before they are written.

    SQLite: the transaction already holds the database's write lock, so max(id)+1… is ours.
    PostgreSQL: drawn from the table's sequence.
    """
    if n == 0:
        return []
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"
            f" FROM generate_series(1, {int(n)})"
        ).all()
        return [r[0] for r in rows]
    start = connection.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}").scalar_one()
    return list(range(start + 1, start + 1 + n))
