"""A process killed in the middle of a batch leaves nothing half-written; a rerun finishes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

from gridweave.core.database import make_engine, migrate
from gridweave.ingest.service import ingest_file
from tests.conftest import keyring_for_tests

from .extracts import police_people, write_csv
from .test_ingest import register, snapshot


def _gridweave(url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "GRIDWEAVE_DATABASE_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "gridweave", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _counts(engine: Engine) -> dict[str, int]:
    return {name: len(rows) for name, rows in snapshot(engine).items() if name not in ("batch",)}


def test_killed_batch_leaves_nothing_and_rerun_matches(
    engine: Engine, database_url: str, tmp_path: Path, tmp_path_factory
) -> None:
    """The test's own engine keeps the file open, so on SQLite the batch writes through the WAL."""
    _kill_mid_batch_then_rerun(engine, database_url, tmp_path, tmp_path_factory)


def test_killed_batch_alone_on_the_sqlite_file_is_rolled_back_from_its_journal(
    tmp_path: Path, tmp_path_factory
) -> None:
    """No other process has the file open, so the batch writes through a rollback journal
    (decision 0014): the next connection finds it hot and rolls the batch back."""
    path = tmp_path / "alone.sqlite"
    engine = make_engine(f"sqlite:///{path}", keyring=keyring_for_tests())
    migrate(engine)
    try:
        _kill_mid_batch_then_rerun(
            engine,
            f"sqlite:///{path}",
            tmp_path,
            tmp_path_factory,
            journal=path.with_name(path.name + "-journal"),
        )
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


def _kill_mid_batch_then_rerun(
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    tmp_path_factory,
    journal: Path | None = None,
) -> None:
    """Kill an ingest while it writes, check nothing is left, rerun it and compare its counts
    with an uninterrupted run's. `journal`: the rollback journal the killed batch must leave
    (the engine's connections are closed first, so the batch has the file to itself)."""
    people = police_people(20_000)
    people[5].cid = ""  # one row for the quarantine, so that table is checked too
    path = write_csv(tmp_path / "police.csv", [p.cells() for p in people])
    register(engine, "police")
    before = snapshot(engine)
    if journal is not None:
        engine.dispose()

    run = _gridweave(
        database_url, "ingest", str(path), "--source", "police_test", "--chunk-rows", "500"
    )
    assert run.stdout is not None
    for line in run.stdout:
        if line.startswith("progress:"):  # the batch is under way: some chunks are written
            os.kill(run.pid, signal.SIGKILL)
            break
    run.wait(timeout=60)
    assert run.returncode == -signal.SIGKILL, "the ingest finished before it could be killed"
    if journal is not None:
        assert journal.stat().st_size > 0, "the batch did not write through a rollback journal"
    assert snapshot(engine) == before  # nothing half-written, not even the batch row

    rerun = _gridweave(database_url, "ingest", str(path), "--source", "police_test")
    output, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, output

    reference = tmp_path_factory.mktemp("reference")
    ref_engine = make_engine(f"sqlite:///{reference / 'ref.sqlite'}", keyring=keyring_for_tests())
    migrate(ref_engine)
    register(ref_engine, "police")
    ingest_file(ref_engine, path=path, source_name="police_test")
    assert _counts(engine) == _counts(ref_engine)
    assert _counts(engine)["person"] == 19_999
    assert _counts(engine)["quarantined_row"] == 1
