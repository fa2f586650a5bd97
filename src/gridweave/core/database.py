"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import ast
import functools
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    MetaData,
    create_engine,
    event,
    exc,
    inspect,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from gridweave.core.crypto import CryptoError, Keyring

if TYPE_CHECKING:
    from alembic.config import Config

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned time-zone aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: gridweave stores only aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The keys that open a database's sensitive values belong to its engine: set once where the
# engine is made from the settings, found again by every storage function from its session.
_KEYRINGS: WeakKeyDictionary[Engine, Keyring] = WeakKeyDictionary()


def make_engine(url: str, *, keyring: Keyring | None = None, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite files get WAL, foreign keys and a busy timeout.

    `keyring` (from `Settings.keyring()`) encrypts and opens citizen ids and phones.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
            url = str(parsed.set(drivername="postgresql+psycopg"))
        engine = create_engine(url, **kwargs)
        _ping_when_idle(engine)
    if keyring is not None:
        _KEYRINGS[engine] = keyring
    return engine


IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it has been idle a while.

    The server may have closed it since (a restart, an idle timeout); SQLAlchemy's
    `pool_pre_ping` would find out with one more round trip on every checkout, which on a busy API
    costs more than the look-up it guards. A connection used in the last IDLE_PING_SECONDS
    is handed out as it is; an older one is pinged, and a dead one replaced before anyone sees it.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.DisconnectionError(str(error)) from error  # the pool reconnects
            raise
        if not alive:
            raise exc.DisconnectionError("the connection did not answer a ping")


def keyring_of(bind: Engine | Connection | Session) -> Keyring:
    """The keyring the engine behind `bind` was made with."""
    if isinstance(bind, Session):
        bind = bind.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    keyring = _KEYRINGS.get(engine)
    if keyring is None:
        raise CryptoError(
            "this database engine has no encryption keyring",
            hint="make it with make_engine(url, keyring=settings.keyring())",
        )
    return keyring


PAGE_SIZE = 16384


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Python's sqlite3 opens transactions lazily and only for DML; SQLAlchemy drives BEGIN itself.
    cursor = dbapi_connection.cursor()
    # 16 KiB pages: a bulk ingest writes, spills and checkpoints a quarter as many pages (a
    # third less time in SQLite, decision 0007). Only a new, empty file takes it, and only
    # before WAL mode writes the header; an existing database keeps its page size.
    cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA cache_size=-131072")
    cursor.close()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session whose work commits together at the end, or not at all."""
    with session_factory(engine)() as session, session.begin():
        yield session


@contextmanager
def bulk_transaction(engine: Engine) -> Iterator[Session]:
    """`transaction` for a batch that writes a great deal (an extract of a million rows).

    On an SQLite file that no other connection has open, the batch writes through a rollback
    journal instead of the WAL: the pages it adds are written once, into the file, where the WAL
    writes them twice (into the log, then again when the log is checkpointed into the file),
    decision 0014. The journal keeps the batch atomic (the next connection rolls a killed
    process's work back), and the file is in WAL mode again when the batch ends, however it
    ends. SQLite itself refuses to leave WAL mode while another connection has the file open (a
    web server's, say): the batch then writes through the WAL as every transaction does, and
    its readers go on reading. A connection opened during the batch waits for it to commit.
    """
    if not is_sqlite(engine):
        with transaction(engine) as session:
            yield session
        return
    with engine.connect() as connection:
        raw = cast(sqlite3.Connection, connection.connection.driver_connection)
        # refused ("wal") while others have the file open; "memory" for a database in memory
        journalled = _journal_mode(raw, "TRUNCATE") == "truncate"
        if journalled:
            raw.execute("PRAGMA synchronous=FULL")  # NORMAL is safe only with the WAL
        try:
            with (
                Session(connection, expire_on_commit=False) as session,
                _written_back_as_it_goes(engine.url.database if journalled else None),
                session.begin(),
            ):
                yield session
        finally:
            if journalled:
                if _journal_mode(raw, "WAL") == "wal":
                    raw.execute("PRAGMA synchronous=NORMAL")
                else:  # a connection opened during the batch is reading: not back to the pool
                    connection.invalidate()  # as it is; each new one sets WAL (_sqlite_pragmas)


WRITE_BACK_SECONDS = 1.0


@contextmanager
def _written_back_as_it_goes(path: str | None) -> Iterator[None]:
    """While a batch writes the SQLite file at `path`, have the kernel write the file's pages to
    disk every second instead of all at once when the batch commits.

    Nothing is made durable sooner: SQLite's commit still syncs as it must, but finds little
    left to write (a million-row batch leaves ~1.5 GB of written pages in the kernel's cache,
    and syncing them kept the commit waiting ~1-1.4 s with the CPU idle). The sync is done on
    SQLite's own descriptor of the file, found in /proc/self/fd (so Linux only), because closing
    any other descriptor of it would drop the locks SQLite holds through its own (POSIX locks
    belong to the process and the file).
    """
    fd = _open_descriptor(path) if path else None
    if fd is None:
        yield
        return
    stop = threading.Event()

    def write_back() -> None:
        while not stop.wait(WRITE_BACK_SECONDS):
            try:
                os.fdatasync(fd)
            except OSError:  # closed under us: the batch is ending
                return

    thread = threading.Thread(target=write_back, name="gridweave-write-back", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _open_descriptor(path: str) -> int | None:
    """The descriptor through which this process has the file at `path` open, if the system
    shows it (Linux's /proc/self/fd); None otherwise."""
    target = os.path.realpath(path)
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return None
    for name in names:
        try:
            if os.readlink(f"/proc/self/fd/{name}") == target:
                return int(name)
        except OSError:
            continue
    return None


def _journal_mode(raw: sqlite3.Connection, mode: str) -> str:
    """Set the journal mode; return the mode in force after: the old one while another
    connection has the file open (SQLite answers at once, without the busy timeout's wait)."""
    try:
        return str(raw.execute(f"PRAGMA journal_mode={mode}").fetchone()[0])
    except sqlite3.OperationalError:  # "database is locked": another connection has it open
        return str(raw.execute("PRAGMA journal_mode").fetchone()[0])


MIGRATIONS = Path(__file__).parent.parent / "migrations"


def migrate(engine: Engine) -> None:
    """Bring the database schema to the newest Alembic revision.

    Every command starts here, and starting Alembic costs ~0.3 s (its imports and every
    migration module), so a database already at the heads is recognised without it.
    """
    if _stored_revisions(engine) == migration_heads():
        return
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "heads")  # domains may branch from one revision


def _stored_revisions(engine: Engine) -> frozenset[str]:
    """The revisions Alembic recorded in the database; none in a new one."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return frozenset()
        return frozenset(connection.scalars(text("SELECT version_num FROM alembic_version")))


@functools.cache
def migration_heads() -> frozenset[str]:
    """The revisions of gridweave's migrations that no other one names as its `down_revision`,
    read from each file's literal `revision` and `down_revision` (Alembic's own reading imports
    every file). A file that sets them otherwise, or declares `depends_on`, answers no heads,
    which no database matches, so Alembic decides."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        names: dict[str, Any] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    try:
                        names[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        names[target.id] = ...
        revision, down = names.get("revision"), names.get("down_revision", ...)
        if not isinstance(revision, str) or names.get("depends_on") is not None:
            return frozenset()
        if isinstance(down, str):
            downs.add(down)
        elif isinstance(down, tuple) and all(isinstance(d, str) for d in down):
            downs.update(down)
        elif down is not None:
            return frozenset()
        revisions.add(revision)
    return frozenset(revisions - downs)


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration for gridweave's migrations, run on `connection`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config
