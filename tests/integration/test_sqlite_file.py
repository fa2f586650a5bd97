"""The embedded database file: a new one gets 16 KiB pages and WAL; an older one keeps working."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import text

from gridweave.core.database import PAGE_SIZE, make_engine, migrate


def _pragmas(path: Path) -> tuple[int, str]:
    with closing(sqlite3.connect(path)) as raw:
        page_size = raw.execute("PRAGMA page_size").fetchone()[0]
        journal = raw.execute("PRAGMA journal_mode").fetchone()[0]
    return page_size, journal


def test_a_new_database_has_large_pages_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate(engine)
    finally:
        engine.dispose()
    assert PAGE_SIZE == 16384
    assert _pragmas(path) == (16384, "wal")


def test_a_database_made_with_small_pages_keeps_them_and_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with closing(sqlite3.connect(path)) as raw:  # as gridweave made them before 16 KiB pages
        raw.execute("PRAGMA page_size=4096")
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("CREATE TABLE kept (v TEXT)")
        raw.executemany("INSERT INTO kept VALUES (?)", [(f"row {i}",) for i in range(1000)])
        raw.commit()
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO kept VALUES ('one more')"))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM kept")).scalar_one() == 1001
    finally:
        engine.dispose()
    assert _pragmas(path) == (4096, "wal")
