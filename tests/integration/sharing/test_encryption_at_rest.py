"""Citizen ids and phones are nowhere in the database in clear (decision 0008), on SQLite and
PostgreSQL, after the synthetic city is ingested, linked, searched, read and corrected; yet the
gated API and `registry show` still show them to those allowed."""

from __future__ import annotations

import os
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, select, text
from typer.testing import CliRunner

from gridweave.cli import app as cli_app
from gridweave.core.database import transaction
from gridweave.linkage.config import parse_config
from gridweave.linkage.service import link_people
from gridweave.registry.attributes import EntityType
from gridweave.registry.models import Person
from gridweave.registry.service import find_golden, golden_values
from tests.integration.sharing.conftest import City

FAST = parse_config("person: {training: {u_max_pairs: 50000, em_max_pairs: 50000}}")
RUNS = re.compile(r"[0-9Xx]{11,}")


def _secrets(city_dir: Path) -> set[str]:
    """Every citizen id and phone of the synthetic city's people (its ground truth)."""
    found: set[str] = set()
    for path in (city_dir / "truth").glob("*.csv"):
        frame = pl.read_csv(path, infer_schema=False)
        for column in frame.columns:
            if "citizen_id" in column or "phone" in column:
                found.update(v for v in frame[column].drop_nulls().to_list() if len(v) >= 11)
    return found


def _hits(blob: str, secrets: set[str]) -> set[str]:
    """The secrets inside `blob` (ids and phones sit in runs of digits)."""
    hits = set()
    for run in RUNS.findall(blob):
        run = run.upper()
        for size in {len(s) for s in secrets}:
            hits.update(
                run[i : i + size]
                for i in range(len(run) - size + 1)
                if run[i : i + size] in secrets
            )
    return hits


def _scan_tables(engine: Engine, secrets: set[str]) -> dict[str, set[str]]:
    """table.column → secrets found in its text, over every column of every table."""
    leaks: dict[str, set[str]] = {}
    with engine.connect() as connection:
        names = inspect(connection).get_table_names()
        for table in names:
            for column in inspect(connection).get_columns(table):
                name = column["name"]
                values = connection.execute(
                    text(f'SELECT CAST("{name}" AS TEXT) FROM {table} WHERE "{name}" IS NOT NULL')
                ).scalars()
                found = _hits("\n".join(values), secrets)
                if found:
                    leaks[f"{table}.{name}"] = found
    return leaks


def _use_everything(city: City) -> None:
    """What stores values: linkage, searches by id and phone, reads, a correction request."""
    engine = city.client.app.state.engine  # type: ignore[attr-defined]
    link_people(engine, actor="test", config=FAST, full=True)
    found = city.get("police", "/people", citizen_id=city.x.citizen_id)
    assert found.status_code == 200, found.text
    city.get("police", "/people", phone=city.x.phone)
    city.get("health", f"/people/{city.x.id}", purpose="data_correction")
    body = {"attribute": "phone", "reason": "换号", "proposed_value": "13911112222"}
    city.client.post("/me/corrections", json=body, headers=city.headers("res_x"))


@pytest.fixture(scope="module")
def used(city: City) -> City:
    _use_everything(city)
    return city


def test_no_clear_id_or_phone_in_any_column(used: City, city_dir: Path) -> None:
    secrets = _secrets(city_dir) | {used.x.citizen_id, used.x.phone, "13911112222"}
    assert len(secrets) > 500  # the scan looks for something
    engine = used.client.app.state.engine  # type: ignore[attr-defined]
    assert _scan_tables(engine, secrets) == {}


def test_the_scan_would_see_a_clear_value(used: City) -> None:
    """The detector itself: a clear phone written anywhere is found."""
    engine = used.client.app.state.engine  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE person SET name = :v WHERE id = :i"), {"v": "13800009999", "i": -1}
        )
        connection.execute(
            text("UPDATE area SET name = name || :v WHERE code = (SELECT min(code) FROM area)"),
            {"v": " 13800009999"},
        )
    try:
        assert _scan_tables(engine, {"13800009999"}) == {"area.name": {"13800009999"}}
    finally:
        with engine.begin() as connection:
            connection.execute(text("UPDATE area SET name = replace(name, ' 13800009999', '')"))


def test_no_clear_id_or_phone_in_the_sqlite_file(used: City, city_dir: Path) -> None:
    if used.backend != "sqlite":
        pytest.skip("the database file exists on SQLite only")
    engine = used.client.app.state.engine  # type: ignore[attr-defined]
    engine.dispose()  # the pool's connections would hold the WAL open
    path = Path(engine.url.database or "")
    with closing(sqlite3.connect(path)) as connection:
        busy = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        assert busy == 0
    blob = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()).decode(
        "latin-1"
    )
    assert _hits(blob, _secrets(city_dir)) == set()


def test_allowed_readers_still_see_them(used: City) -> None:
    mine = used.get("res_x", "/me/data").json()
    assert mine["record"]["values"]["citizen_id"] == used.x.citizen_id
    assert mine["record"]["values"]["phone"] == used.x.phone
    # exact look-up by id and by phone goes through the blind index
    by_id = used.get("police", "/people", citizen_id=used.x.citizen_id).json()
    by_phone = used.get("police", "/people", phone=used.x.phone).json()
    assert [r["id"] for r in by_id] == [used.x.id]
    assert used.x.id in [r["id"] for r in by_phone]
    # a grid worker sees X masked, never in clear
    masked = used.get("gw_a", f"/people/{used.x.id}").json()
    assert masked["values"]["citizen_id"] != used.x.citizen_id
    assert masked["values"]["citizen_id"][-4:] == used.x.citizen_id[-4:]
    engine = used.client.app.state.engine  # type: ignore[attr-defined]
    with transaction(engine) as session:
        person = find_golden(session, EntityType.person, used.x.citizen_id)
        assert golden_values(session, EntityType.person, person)["phone"] == used.x.phone
        stored = session.scalar(select(Person.citizen_id).where(Person.id == used.x.id))
        assert stored is not None and stored.startswith("gw1:a:t1:")


def test_registry_show_opens_them(used: City) -> None:
    result = CliRunner().invoke(
        cli_app,
        ["--database-url", used.url, "registry", "show", "person", used.x.citizen_id],
        env={"COLUMNS": "400"},
    )
    assert result.exit_code == 0, result.output
    assert used.x.citizen_id in result.output and used.x.phone in result.output


def test_a_missing_key_is_a_server_error_not_a_leak(used: City) -> None:
    """The API over a keyring that lacks the stored values' key: a 500, nothing about keys."""
    from gridweave.api import create_app
    from gridweave.core.crypto import Keyring
    from gridweave.core.database import make_engine

    test = used.settings.keyring()
    other = Keyring(
        keys={"z9": os.urandom(32)}, active="z9", algorithm=test.algorithm, blind_key=test.blind_key
    )
    engine = make_engine(used.url, keyring=other)
    try:
        with TestClient(create_app(used.settings, engine), raise_server_exceptions=False) as client:
            response = client.get("/me/data", headers=used.headers("res_x"))
        assert response.status_code == 500
        assert response.json()["code"] == "internal_error" and "t1" not in response.text
    finally:
        engine.dispose()
