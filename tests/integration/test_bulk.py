"""Bulk inserts and upserts from a DataFrame store exactly what row-by-row ones store, all or
nothing.

On SQLite a big frame goes through a database image (ADBC, `deserialize`, `INSERT … SELECT`), a
small one through `executemany`; on PostgreSQL both go through COPY.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import adbc_driver_sqlite.dbapi as adbc_sqlite
import polars as pl
import pytest
from sqlalchemy import Engine

from gridweave.core import bulk
from gridweave.core.bulk import IMAGE_MIN_ROWS, bulk_insert, bulk_upsert, insert_frame, upsert_frame
from gridweave.core.database import make_engine

COLUMNS = (
    "k BIGINT, i BIGINT, f DOUBLE PRECISION, s TEXT, j TEXT, b BOOLEAN, n TEXT, d DATE, t TEXT"
)


def _frame(height: int) -> pl.DataFrame:
    pattern = {
        "i": [1, None, -(2**62), 0],
        "f": [1.5, None, -0.0, 0.1],
        # CJK, Latin, the middle dot; empty is not null; what CSV and COPY's text format escape
        "s": ["陈娜 Ayşe·阿依古丽", "", None, 'a,"b"\nc\\d\t\\N'],
        "j": ['{"name":"陈娜","n":1}', None, "[]", '{"s":"\\"x\\""}'],  # JSON travels as text
        "b": [True, False, None, True],
        "n": [None, None, None, None],  # a column no row fills
        "d": [date(1989, 9, 17), None, date(2000, 2, 29), date(1900, 1, 1)],
        "t": ["2026-11-21 22:19:43.357614", None, "1970-01-01 00:00:00.000000", ""],
    }
    repeats = -(-height // 4)
    return pl.DataFrame({c: v * repeats for c, v in pattern.items()}).head(height)


def _table(engine: Engine, name: str) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        connection.exec_driver_sql(f"CREATE TABLE {name} ({COLUMNS})")


def _stored(engine: Engine, name: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return list(
            connection.exec_driver_sql(f"SELECT k, i, f, s, j, b, n, d, t FROM {name}").all()
        )


@pytest.mark.parametrize("height", [3, IMAGE_MIN_ROWS + 1], ids=["row by row", "image"])
def test_a_frame_is_stored_as_its_rows_would_be(engine: Engine, height: int) -> None:
    frame = _frame(height)
    _table(engine, "by_rows")
    _table(engine, "by_frame")
    with engine.begin() as connection:
        bulk_insert(connection, "by_rows", frame.columns, frame.rows(), {"k": 7})
        insert_frame(connection, "by_frame", frame, {"k": 7})
    by_rows, by_frame = _stored(engine, "by_rows"), _stored(engine, "by_frame")
    assert len(by_frame) == height
    assert by_frame == by_rows
    if engine.dialect.name == "sqlite":  # same storage classes, not merely equal values
        with engine.connect() as connection:
            types = "typeof(i), typeof(f), typeof(s), typeof(b), typeof(n), typeof(d)"
            assert (
                connection.exec_driver_sql(f"SELECT {types} FROM by_frame").all()
                == connection.exec_driver_sql(f"SELECT {types} FROM by_rows").all()
            )


@pytest.mark.parametrize("height", [4, IMAGE_MIN_ROWS * 2], ids=["row by row", "image"])
def test_an_upsert_updates_known_keys_and_adds_the_rest(engine: Engine, height: int) -> None:
    columns = "id BIGINT PRIMARY KEY, k TEXT UNIQUE, s TEXT, created_at TEXT, updated_at TEXT"
    before = pl.DataFrame(
        {"id": range(0, height, 2), "k": [f"key {i}" for i in range(0, height, 2)], "s": "old"}
    )
    after = pl.DataFrame(
        {
            "id": range(height),
            "k": [f"key {i}" for i in range(height)],
            "s": [None if i % 3 == 0 else f"new {i}" for i in range(height)],
        }
    )
    for name in ("by_rows", "by_frame"):
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
            connection.exec_driver_sql(f"CREATE TABLE {name} ({columns})")
            insert_frame(connection, name, before, {"created_at": "first", "updated_at": "first"})
    stamps = {"created_at": "second", "updated_at": "second"}
    with engine.begin() as connection:
        bulk_upsert(connection, "by_rows", after.columns, "k", after.rows(), constants=stamps)
        upsert_frame(connection, "by_frame", after, "k", constants=stamps)
    with engine.connect() as connection:
        tables = [
            connection.exec_driver_sql(f"SELECT * FROM {name} ORDER BY id").all()
            for name in ("by_rows", "by_frame")
        ]
    assert tables[1] == tables[0]
    assert tables[1][:4] == [
        (0, "key 0", None, "first", "second"),  # known: updated, null too; created_at kept
        (1, "key 1", "new 1", "second", "second"),  # new
        (2, "key 2", "new 2", "first", "second"),
        (3, "key 3", None, "second", "second"),
    ]


def test_a_transaction_that_fails_after_an_image_keeps_nothing(engine: Engine) -> None:
    _table(engine, "kept")
    with pytest.raises(RuntimeError), engine.begin() as connection:
        insert_frame(connection, "kept", _frame(IMAGE_MIN_ROWS * 3), {"k": 1})
        raise RuntimeError("the batch fails later")
    assert _stored(engine, "kept") == []
    with engine.begin() as connection:  # and the connection takes the next image as usual
        insert_frame(connection, "kept", _frame(IMAGE_MIN_ROWS * 2), {"k": 2})
        insert_frame(connection, "kept", _frame(IMAGE_MIN_ROWS), {"k": 3})
    assert len(_stored(engine, "kept")) == IMAGE_MIN_ROWS * 3


def test_a_timestamp_not_yet_formatted_is_refused_by_name(engine: Engine) -> None:
    _table(engine, "refused")
    frame = pl.DataFrame({"i": [1], "t": [datetime(2026, 11, 21, tzinfo=UTC)]})
    with (
        pytest.raises(TypeError, match=r"\['t'\] are not in storage form.*timestamp_text"),
        engine.begin() as connection,
    ):
        insert_frame(connection, "refused", frame)
    assert _stored(engine, "refused") == []


@pytest.mark.parametrize("where", ["shared memory", "no room in it", "no such folder"])
def test_an_image_is_made_where_there_is_room_for_it(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scratch file of an image (SQLite only: PostgreSQL takes COPY) goes to shared memory
    when it has room for it (a disk need never hold it), else to the temporary folder: the rows
    arrive either way."""
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    shared = tmp_path / "shm"
    if where != "no such folder":
        shared.mkdir()
    monkeypatch.setattr(bulk, "SHARED_MEMORY", shared)
    if where == "no room in it":
        real = os.statvfs

        def full(path: object) -> os.statvfs_result:
            free = real(path)
            return os.statvfs_result((*free[:4], 0, *free[5:]))  # f_bavail: 0 blocks

        monkeypatch.setattr(bulk.os, "statvfs", full)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    made: list[Path] = []
    real_connect = adbc_sqlite.connect

    def connect(uri: str, **kwargs: object) -> object:
        made.append(Path(uri).parent.parent)
        return real_connect(uri, **kwargs)

    monkeypatch.setattr(adbc_sqlite, "connect", connect)
    frame = _frame(IMAGE_MIN_ROWS + 1)
    _table(engine, "by_frame")
    with engine.begin() as connection:
        insert_frame(connection, "by_frame", frame, {"k": 7})
    assert len(_stored(engine, "by_frame")) == frame.height
    assert made == [shared if where == "shared memory" else temporary]
    assert [p for f in (shared, temporary) if f.exists() for p in f.iterdir()] == []  # all gone
    engine.dispose()


def test_images_ahead_write_every_row_in_order_when_the_block_ends(engine: Engine) -> None:
    """Inside `images_ahead` big inserts are built beside the caller and copied when the block
    ends, in the order asked for (an upsert after an insert sees the inserted rows); small ones
    and PostgreSQL's are written at once."""
    columns = "id BIGINT PRIMARY KEY, k TEXT UNIQUE, s TEXT, created_at TEXT, updated_at TEXT"
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS ahead")
        connection.exec_driver_sql(f"CREATE TABLE ahead ({columns})")
    height = IMAGE_MIN_ROWS * 2
    first = pl.DataFrame({"id": range(height), "k": [f"key {i}" for i in range(height)], "s": "a"})
    again = first.with_columns(pl.lit("b").alias("s"))
    small = pl.DataFrame({"id": [height], "k": ["small"], "s": ["c"]})
    stamps = {"created_at": "t", "updated_at": "t"}
    with engine.begin() as connection:
        with bulk.images_ahead(connection):
            insert_frame(connection, "ahead", first, stamps)
            upsert_frame(connection, "ahead", again, "k", constants=stamps)
            insert_frame(connection, "ahead", small, stamps)
            count = "SELECT count(*) FROM ahead"
            waiting = 1 if engine.dialect.name == "sqlite" else height + 1
            assert connection.exec_driver_sql(count).scalar_one() == waiting
        assert connection.exec_driver_sql(count).scalar_one() == height + 1
    with engine.connect() as connection:
        stored = dict(connection.exec_driver_sql("SELECT k, s FROM ahead").all())
    assert stored == {**{f"key {i}": "b" for i in range(height)}, "small": "c"}


def test_a_block_of_images_ahead_that_fails_writes_nothing_and_leaves_no_scratch(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(bulk, "SHARED_MEMORY", tmp_path / "none")  # scratch in the temp folder
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    _table(engine, "kept")
    with (
        pytest.raises(RuntimeError),
        engine.begin() as connection,
        bulk.images_ahead(connection),
    ):
        insert_frame(connection, "kept", _frame(IMAGE_MIN_ROWS * 3), {"k": 1})
        insert_frame(connection, "kept", _frame(IMAGE_MIN_ROWS * 2), {"k": 2})
        raise RuntimeError("the chunk fails before its rows are copied")
    assert _stored(engine, "kept") == []
    assert list(scratch.iterdir()) == []
    with engine.begin() as connection, bulk.images_ahead(connection):  # the next block as usual
        insert_frame(connection, "kept", _frame(IMAGE_MIN_ROWS), {"k": 3})
    assert len(_stored(engine, "kept")) == IMAGE_MIN_ROWS
    assert list(scratch.iterdir()) == []
