"""Fixtures shared by every test: databases (SQLite and PostgreSQL), settings, a fixed clock."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from gridweave.core import clock
from gridweave.core.crypto import Keyring
from gridweave.core.database import make_engine, migrate
from gridweave.core.settings import load_settings

POSTGRES_URL = os.environ.get("GRIDWEAVE_TEST_POSTGRES_URL")


def _postgres_schema_url(base: str, schema: str) -> str:
    url = make_url(base)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@contextmanager
def empty_database(backend: str, folder: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file in `folder`, or a fresh PostgreSQL schema
    (dropped afterwards). PostgreSQL is skipped, saying why, when no server is configured."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'gridweave.sqlite'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL: set GRIDWEAVE_TEST_POSTGRES_URL to run this test on it")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield _postgres_schema_url(POSTGRES_URL, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    with empty_database(request.param, tmp_path) as url:
        yield url


# The tests' own encryption keys: random for each run, and in the environment so the CLI, the
# API and subprocesses the tests start read the same ones through their settings.
os.environ.setdefault(
    "GRIDWEAVE_ENCRYPTION_KEYS", json.dumps({"t1": base64.b64encode(os.urandom(32)).decode()})
)
os.environ.setdefault("GRIDWEAVE_BLIND_INDEX_KEY", base64.b64encode(os.urandom(32)).decode())
os.environ.setdefault("GRIDWEAVE_ENCRYPTION_ALGORITHM", "aes-256-gcm")


def keyring_for_tests() -> Keyring:
    """The keyring the tests' settings give (see the environment above)."""
    return load_settings().keyring()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on an empty database."""
    eng = make_engine(database_url, keyring=keyring_for_tests())
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def fixed_clock() -> Iterator[datetime]:
    """Freeze the clock at a known instant."""
    instant = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
    clock.set_now(lambda: instant)
    yield instant
    clock.set_now(None)


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One local Spark session for every Spark test (the JVM starts once per test run).

    Skips, saying why, only when there is no Java runtime: pyspark comes with the test extra.
    """
    from gridweave.linkage.config import parse_config
    from gridweave.linkage.spark import find_java, spark_session

    if find_java() is None:
        pytest.skip("Spark tests need a Java runtime (17+): none on JAVA_HOME or the PATH")
    settings = parse_config("spark: {master: 'local[2]', shuffle_partitions: 2}").spark
    session = spark_session(settings)
    yield session
    session.stop()
