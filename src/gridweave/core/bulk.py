"""Fast bulk writes that bypass the ORM: COPY on PostgreSQL, executemany on SQLite.

Values must already be in the column's storage form: JSON columns as JSON text, timestamps as
UTC (see `timestamp_text`), dates as ISO strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
import polars as pl
from sqlalchemy import Connection

SQLITE_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%6f"  # how SQLAlchemy stores DateTime in SQLite


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
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in every if c != key and c not in keep)
    conflict = f'ON CONFLICT ("{key}") DO UPDATE SET {updates}'
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
