"""The embedded database file: a new one gets 16 KiB pages and WAL; an older one keeps working;
a big batch alone on the file writes through a rollback journal, and through the WAL otherwise."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gridweave.core import database
from gridweave.core.database import PAGE_SIZE, bulk_transaction, make_engine, migrate


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


def _journal_and_sync(session: Session) -> tuple[str, int]:
    journal = session.execute(text("PRAGMA journal_mode")).scalar_one()
    return journal, session.execute(text("PRAGMA synchronous")).scalar_one()


def _engine_with_table(path: Path) -> Engine:
    """An engine on a migrated file at `path` holding an empty table `loaded (v TEXT)`."""
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE loaded (v TEXT)"))
    return engine


def test_a_batch_alone_on_the_file_writes_through_a_rollback_journal(tmp_path: Path) -> None:
    path = tmp_path / "alone.sqlite"
    engine = _engine_with_table(path)
    try:
        with bulk_transaction(engine) as session:
            assert _journal_and_sync(session) == ("truncate", 2)  # synchronous FULL
            session.execute(text("INSERT INTO loaded VALUES ('kept')"))
        with pytest.raises(RuntimeError), bulk_transaction(engine) as session:
            session.execute(text("INSERT INTO loaded VALUES ('rolled back')"))
            raise RuntimeError("the batch failed")
        with engine.connect() as connection:  # the pool's connection is as make_engine left it
            assert connection.execute(text("SELECT v FROM loaded")).scalars().all() == ["kept"]
            assert connection.execute(text("PRAGMA synchronous")).scalar_one() == 1  # NORMAL
    finally:
        engine.dispose()
    assert _pragmas(path) == (PAGE_SIZE, "wal")
    assert not path.with_name(path.name + "-journal").exists()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="no /proc/self/fd (Linux only)")
def test_a_batch_has_its_pages_written_back_as_it_goes_and_keeps_its_locks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "alone.sqlite"
    synced: list[str] = []
    fdatasync = os.fdatasync

    def recorded(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        fdatasync(fd)

    monkeypatch.setattr(database, "WRITE_BACK_SECONDS", 0.01)
    monkeypatch.setattr(os, "fdatasync", recorded)
    engine = _engine_with_table(path)
    try:
        with bulk_transaction(engine) as session:
            session.execute(text("INSERT INTO loaded VALUES ('kept')"))
            deadline = time.monotonic() + 5
            while not synced and time.monotonic() < deadline:
                time.sleep(0.01)
            assert str(path.resolve()) in synced
            # another process still cannot write: the batch's locks are as SQLite took them
            other = subprocess.run(
                [sys.executable, "-c", _WRITER, str(path)], capture_output=True, text=True
            )
            assert "database is locked" in other.stderr
        with engine.connect() as connection:
            assert connection.execute(text("SELECT v FROM loaded")).scalars().all() == ["kept"]
    finally:
        engine.dispose()


# writes one row at once, without waiting for a lock
_WRITER = """
import sqlite3, sys
with sqlite3.connect(sys.argv[1], timeout=0) as db:
    db.execute("INSERT INTO loaded VALUES ('other')")
"""


def test_a_batch_writes_through_the_wal_while_another_process_has_the_file_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.sqlite"
    engine = _engine_with_table(path)
    reader = subprocess.Popen(  # a web server, say: one read, then it keeps its connection
        [sys.executable, "-c", _READER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline().strip() == "0"
        with bulk_transaction(engine) as session:
            assert _journal_and_sync(session) == ("wal", 1)
            session.execute(text("INSERT INTO loaded VALUES ('kept')"))
            reader.stdin.write("\n")  # it reads on while the batch writes: the WAL's snapshot
            reader.stdin.flush()
            assert reader.stdout.readline().strip() == "0"
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "1"
    finally:
        reader.kill()
        reader.wait()
        engine.dispose()


def test_a_batch_writes_through_the_wal_while_this_process_has_another_connection_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared.sqlite"
    engine = make_engine(f"sqlite:///{path}")  # its busy timeout: 30 s
    migrate(engine)
    with closing(sqlite3.connect(path)) as other:
        other.execute("SELECT count(*) FROM alembic_version").fetchall()
        started = time.monotonic()
        try:
            with bulk_transaction(engine) as session:
                assert _journal_and_sync(session) == ("wal", 1)
        finally:
            engine.dispose()
    assert time.monotonic() - started < 10  # not the busy timeout's wait


# counts the rows loaded each time it reads a line, holding its connection open in between
_READER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], timeout=1)
while True:
    print(connection.execute("SELECT count(*) FROM loaded").fetchall()[0][0], flush=True)
    if not sys.stdin.readline():
        break
"""


def test_a_batch_in_an_in_memory_database_keeps_its_rows() -> None:
    """No file, no WAL: the batch runs as any transaction, and the rows stay (a connection
    dropped after the batch would take the whole database with it)."""
    engine = make_engine("sqlite://")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE loaded (v TEXT)"))
        with bulk_transaction(engine) as session:
            assert _journal_and_sync(session) == ("memory", 1)
            session.execute(text("INSERT INTO loaded VALUES ('kept')"))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT v FROM loaded")).scalars().all() == ["kept"]
    finally:
        engine.dispose()
