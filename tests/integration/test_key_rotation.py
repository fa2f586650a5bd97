"""Key rotation (decision 0008), on SQLite and PostgreSQL: every stored id and phone ends under
the new key, look-ups keep working, a stopped rotation resumes, a missing key is named."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from typer.testing import CliRunner, Result

from gridweave.cli import app as cli_app
from gridweave.core.crypto import CryptoError, Keyring
from gridweave.core.database import make_engine, transaction
from gridweave.ingest.models import QuarantinedRow
from gridweave.ingest.service import ingest_file, quarantined_values, register_source
from gridweave.linkage.config import parse_config
from gridweave.linkage.service import link_people
from gridweave.registry import keys, queries
from gridweave.registry.attributes import EntityType
from gridweave.registry.service import find_golden, golden_values
from tests.conftest import keyring_for_tests

from .extracts import CONTRACTS, police_people, write_csv

FAST = parse_config("person: {training: {u_max_pairs: 20000, em_max_pairs: 20000}}")
P = EntityType.person


def _keyring(base: Keyring, *, active: str, drop: tuple[str, ...] = (), **more: bytes) -> Keyring:
    ring = {k: v for k, v in base.keys.items() if k not in drop} | more
    return Keyring(keys=ring, active=active, algorithm=base.algorithm, blind_key=base.blind_key)


def _city(engine: Engine, tmp_path: Path) -> list:  # type: ignore[type-arg]
    with transaction(engine) as session:
        register_source(session, path=CONTRACTS / "police.yaml")
    people = police_people(12)
    people[5].cid = people[5].cid[:-1] + ("0" if people[5].cid[-1] != "0" else "1")  # quarantined
    ingest_file(
        engine,
        path=write_csv(tmp_path / "p.csv", [p.cells() for p in people]),
        source_name="police_test",
    )
    link_people(engine, actor="test", config=FAST, full=True)
    return people


def _check_reads(engine: Engine, people: list) -> None:  # type: ignore[type-arg]
    with transaction(engine) as session:
        for p in (people[0], people[7]):
            person = find_golden(session, P, p.cid)
            assert golden_values(session, P, person)["phone"] == p.phone
            found = queries.search(session, P, criteria={"phone": p.phone}, grids=None, limit=5)
            assert [f.id for f in found] == [person.id]
        row = session.scalars(select(QuarantinedRow)).one()
        assert quarantined_values(keyring_for_tests(), row.row)  # type: ignore[truthy-bool]


def test_rotation_moves_every_value_to_the_new_key(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    people = _city(engine, tmp_path)
    old = keyring_for_tests()
    before = keys.status(engine).values
    assert before["person"][old.active] == 22  # 11 people kept (one quarantined): id and phone
    assert before["source_record"][old.active] > 0 and before["person_feature"][old.active] > 0
    assert before["quarantined_row"] == {old.active: 1}

    new = _keyring(old, active="k2", k2=os.urandom(32))
    rotated = make_engine(database_url, keyring=new)
    try:
        with pytest.raises(RuntimeError, match="stop"):  # stopped after the first batch

            def stop(table: str, done: int) -> None:
                raise RuntimeError("stop")

            keys.rotate(rotated, batch=3, progress=stop)
        half = keys.status(rotated).values["person"]
        assert half["k2"] > 0 and half[old.active] > 0  # both readable meanwhile
        _check_reads(rotated, people)

        done = keys.rotate(rotated, batch=3)
        assert done["person"] > 0 and done["source_record"] > 0
        after = keys.status(rotated).values
        assert all(set(seen) <= {"k2"} for seen in after.values()), after
        assert keys.rotate(rotated)["person"] == 0  # nothing left to do
    finally:
        rotated.dispose()

    # the old key is no longer needed: a keyring without it reads everything
    only_new = make_engine(database_url, keyring=_keyring(new, active="k2", drop=(old.active,)))
    try:
        _check_reads_without_test_keys(only_new, people)
    finally:
        only_new.dispose()


def _check_reads_without_test_keys(engine: Engine, people: list) -> None:  # type: ignore[type-arg]
    with transaction(engine) as session:
        person = find_golden(session, P, people[0].cid)
        assert golden_values(session, P, person)["citizen_id"] == people[0].cid
        found = queries.search(session, P, criteria={"phone": people[0].phone}, grids=None, limit=5)
        assert [f.id for f in found] == [person.id]
    link_people(engine, actor="test", config=FAST)  # linkage opens features and records


def test_a_missing_key_is_named(engine: Engine, database_url: str, tmp_path: Path) -> None:
    people = _city(engine, tmp_path)
    old = keyring_for_tests()
    stranger = make_engine(
        database_url, keyring=_keyring(old, active="k9", drop=(old.active,), k9=os.urandom(32))
    )
    try:
        with transaction(stranger) as session:
            person = find_golden(session, P, people[0].cid)  # the blind index still finds it
            with pytest.raises(CryptoError, match=f"under key '{old.active}'.*not in the keyring"):
                golden_values(session, P, person)
    finally:
        stranger.dispose()


def test_a_new_blind_index_key_reindexes(engine: Engine, database_url: str, tmp_path: Path) -> None:
    people = _city(engine, tmp_path)
    old = keyring_for_tests()
    fresh = Keyring(
        keys=old.keys, active=old.active, algorithm=old.algorithm, blind_key=os.urandom(32)
    )
    reindexed = make_engine(database_url, keyring=fresh)
    try:
        with transaction(reindexed) as session, pytest.raises(Exception, match="no person"):
            find_golden(session, P, people[0].cid)  # old indexes: not found until rotated
        keys.rotate(reindexed)
        _check_reads_without_test_keys(reindexed, people)
        with reindexed.connect() as connection:
            stale = connection.execute(
                text("SELECT count(*) FROM linkage_run WHERE blocking <> 'reindex'")
            )
            assert stale.scalar() == 1  # the link run after the rotation rebuilt the block keys
    finally:
        reindexed.dispose()


def test_clear_values_of_an_older_database_get_encrypted(engine: Engine, tmp_path: Path) -> None:
    people = _city(engine, tmp_path)
    with engine.begin() as connection:  # as a database from before revision 0008 holds them
        connection.execute(
            text("UPDATE person SET phone = :p WHERE id = (SELECT min(id) FROM person)"),
            {"p": people[0].phone},
        )
    assert keys.status(engine).values["person"]["(clear)"] == 1
    keys.rotate(engine)
    assert "(clear)" not in keys.status(engine).values["person"]
    _check_reads(engine, people)


def test_settings_make_the_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gridweave.core.settings import Settings

    for name in ("ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "ENCRYPTION_ALGORITHM"):
        monkeypatch.delenv(f"GRIDWEAVE_{name}", raising=False)
    with pytest.raises(ValueError, match="GRIDWEAVE_ENCRYPTION_KEYS and GRIDWEAVE_BLIND_INDEX_KEY"):
        Settings(environment="production", secret_key="s" * 32)
    with pytest.raises(ValueError, match="unknown encryption algorithm 'des'"):
        Settings(encryption_algorithm="des")
    # development: a key file made once under the data dir, the same keys ever after
    first = Settings(data_dir=tmp_path).keyring()
    again = Settings(data_dir=tmp_path).keyring()
    assert first.keys == again.keys and first.blind_key == again.blind_key
    assert (tmp_path / "encryption-keys.json").stat().st_mode & 0o777 == 0o600
    b64 = base64.b64encode(os.urandom(16)).decode()
    sm4 = Settings(
        environment="production",
        secret_key="s" * 32,
        encryption_keys={"s1": b64},
        encryption_algorithm="sm4-gcm",
        blind_index_key=base64.b64encode(os.urandom(32)).decode(),
    ).keyring()
    assert sm4.encrypt("13800000000", "person.phone").startswith("gw1:s:s1:")
    with pytest.raises(CryptoError, match="aes-256-gcm needs 32"):
        blind = base64.b64encode(os.urandom(32)).decode()
        Settings(encryption_keys={"s1": b64}, blind_index_key=blind).keyring()


def test_the_keys_commands(engine: Engine, database_url: str, tmp_path: Path) -> None:
    _city(engine, tmp_path)
    old = keyring_for_tests()
    runner = CliRunner()

    def run(*args: str, **env: str) -> str:
        result = runner.invoke(
            cli_app, ["--database-url", database_url, "keys", *args], env={"COLUMNS": "200", **env}
        )
        assert result.exit_code == 0, result.output
        return result.output

    generated = run("generate", "--key-id", "k2", "--algorithm", "sm4-gcm")
    lines = dict(line.split("=", 1) for line in generated.splitlines())
    new_keys = json.loads(lines["GRIDWEAVE_ENCRYPTION_KEYS"].strip("'"))
    assert (
        len(base64.b64decode(new_keys["k2"])) == 16
        and lines["GRIDWEAVE_ENCRYPTION_ACTIVE_KEY"] == "k2"
    )
    assert f"{old.active} (active)" in run("status")
    both = {old.active: base64.b64encode(old.keys[old.active]).decode()} | new_keys
    env = {
        "GRIDWEAVE_ENCRYPTION_KEYS": json.dumps(both),
        "GRIDWEAVE_ENCRYPTION_ACTIVE_KEY": "k2",
        "GRIDWEAVE_ENCRYPTION_ALGORITHM": "sm4-gcm",
    }
    assert "person: 11 rows rewritten" in run("rotate", "--batch", "4", **env)
    after = run("status", **env)
    assert "k2 (active)" in after and f" {old.active} " not in after


def test_a_database_from_before_0008_is_upgraded_then_encrypted(database_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    import gridweave.core.database as database

    engine = make_engine(database_url, keyring=keyring_for_tests())
    config = Config()
    config.set_main_option(
        "script_location", str(Path(database.__file__).parent.parent / "migrations")
    )
    cid, phone = police_people(1)[0].cid, "13812345678"
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0005")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO person (id, citizen_id, phone, name, provenance, sources,"
                    " created_at, updated_at) VALUES (1, :c, :p, '张三', '{}', 1, :t, :t)"
                ),
                {"c": cid, "p": phone, "t": "2026-01-01 00:00:00.000000"},
            )
        database.migrate(engine)
        assert keys.status(engine).values["person"] == {"(clear)": 2}
        assert keys.rotate(engine)["person"] == 1
        with transaction(engine) as session:
            person = find_golden(session, P, cid)
            clear = golden_values(session, P, person)
            assert (clear["citizen_id"], clear["phone"]) == (cid, phone)
            assert person.citizen_id.startswith("gw1:")
            found = queries.search(session, P, criteria={"phone": phone}, grids=None, limit=5)
            assert [f.id for f in found] == [1]
    finally:
        engine.dispose()


def test_keys_that_are_not_the_databases_are_refused_before_anything_is_written(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    _city(engine, tmp_path)
    old = keyring_for_tests()
    other = base64.b64encode(os.urandom(32)).decode()
    extract = write_csv(tmp_path / "next.csv", [p.cells() for p in police_people(15)])
    runner = CliRunner()

    def run(*args: str, **env: str | None) -> Result:
        return runner.invoke(
            cli_app, ["--database-url", database_url, *args], env={"COLUMNS": "200", **env}
        )

    def counts() -> tuple[int, int, int]:
        with engine.connect() as connection:
            return tuple(  # type: ignore[return-value]
                connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("person", "source_record", "batch")
            )

    def refusal(result: Result) -> str:
        # `gridweave` prints a GridweaveError's message and hint and exits 2 (cli.run)
        assert isinstance(result.exception, CryptoError), result.output
        return str(result.exception).replace("\n", " ")

    before = counts()
    ingest = ("ingest", str(extract), "--source", "police_test")
    # the same key id with another key under it
    wrong_key = refusal(run(*ingest, GRIDWEAVE_ENCRYPTION_KEYS=json.dumps({old.active: other})))
    assert "these encryption keys do not open this database's citizen ids" in wrong_key
    assert "the keys came from GRIDWEAVE_ENCRYPTION_KEYS" in wrong_key
    # the right encryption keys, another blind-index key: ids would find no one
    wrong_blind = refusal(run(*ingest, GRIDWEAVE_BLIND_INDEX_KEY=other))
    assert "blind-index key is not the one" in wrong_blind
    assert "gridweave keys rotate" in wrong_blind
    # development keys made in another folder: the message names the file
    elsewhere = tmp_path / "elsewhere"
    dev = run(
        *ingest,
        GRIDWEAVE_ENCRYPTION_KEYS=None,
        GRIDWEAVE_BLIND_INDEX_KEY=None,
        GRIDWEAVE_DATA_DIR=str(elsewhere),
    )
    assert str(elsewhere.resolve() / "encryption-keys.json") in refusal(dev)
    assert counts() == before
    # `keys status` still answers (it is how one finds out which keys the data is under), and
    # says what does not fit
    answer = run("keys", "status", GRIDWEAVE_BLIND_INDEX_KEY=other)
    assert answer.exit_code == 1, answer.output
    assert f"{old.active} (active)" in answer.output
    assert "blind-index key is not the one" in answer.output.replace("\n", " ")
    # the API refuses to start on them too
    from gridweave.api import create_app
    from gridweave.core.settings import load_settings

    with pytest.raises(CryptoError, match="blind-index key is not the one"):
        create_app(load_settings(database_url=database_url, blind_index_key=other))
    # and the database's own keys go on as before
    done = run(*ingest)
    assert done.exit_code == 0, done.output
    assert counts()[0] == before[0] + 4  # three not seen before, one quarantined before


def test_status_tries_each_key_on_what_it_protects(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """Counting key-id labels is not enough: a key id can be configured with another key's
    bytes. `keys status` opens one value of each table and key id with the configured key."""
    _city(engine, tmp_path)
    old = keyring_for_tests()
    fitting = keys.status(engine)
    assert fitting.fits and fitting.unopened == {} and fitting.blind_index is None

    # the same key id, another key under it (and a second key, active, that opens nothing yet)
    impostor = _keyring(old, active="k2", k2=os.urandom(32), **{old.active: os.urandom(32)})
    wrong = make_engine(database_url, keyring=impostor)
    try:
        found = keys.status(wrong)
        assert found.values["person"][old.active] == 22  # the labels still count as before
        assert found.unopened["person", old.active] == (
            f"the key configured as {old.active!r} is not the one they were encrypted with"
        )
        assert {table for table, _ in found.unopened} == {
            table for table, seen in found.values.items() if seen
        }  # every table holding values under it
        assert not found.fits
    finally:
        wrong.dispose()

    # a key id no longer configured at all
    without = make_engine(
        database_url, keyring=_keyring(old, active="k2", drop=(old.active,), k2=os.urandom(32))
    )
    try:
        found = keys.status(without)
        assert found.unopened["source_record", old.active] == f"no key {old.active!r} is configured"
    finally:
        without.dispose()

    runner = CliRunner()
    result = runner.invoke(
        cli_app,
        ["--database-url", database_url, "keys", "status"],
        env={
            "COLUMNS": "200",
            "GRIDWEAVE_ENCRYPTION_KEYS": json.dumps(
                {old.active: base64.b64encode(os.urandom(32)).decode()}
            ),
        },
    )
    assert result.exit_code == 1, result.output
    assert "is not the one they were encrypted with" in result.output
    assert "some stored values do not open" in result.output
    fine = runner.invoke(cli_app, ["--database-url", database_url, "keys", "status"])
    assert fine.exit_code == 0, fine.output
    assert "opens with the configured key" in fine.output
