"""Searching the base library by a name's first characters finds exactly the names that start
with them, and on SQLite looks them up in the name index instead of reading every person."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gridweave.core.database import make_engine, migrate
from gridweave.registry.attributes import EntityType
from gridweave.registry.models import Person
from gridweave.registry.queries import search
from tests.conftest import keyring_for_tests

NAMES = ["王芳", "王芳芳", "王芳𠀀", "王芬", "王", "李王芳", "王%芳", "王_芳", "阿依古丽·买买提"]


def _found(session: Session, prefix: str) -> list[str | None]:
    people = search(session, EntityType.person, criteria={"name": prefix}, grids=None, limit=50)
    return [p.name for p in people]


def test_a_name_search_finds_the_names_that_start_with_it(engine: Engine) -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    with Session(engine) as session:
        session.add_all(
            Person(id=i, name=n, provenance={}, sources=1, created_at=now, updated_at=now)
            for i, n in enumerate(NAMES, start=1)
        )
        session.commit()
        assert _found(session, "王芳") == ["王芳", "王芳芳", "王芳𠀀"]  # a character beyond U+FFFF
        assert _found(session, "王") == ["王芳", "王芳芳", "王芳𠀀", "王芬", "王", "王%芳", "王_芳"]
        assert _found(session, "王%") == ["王%芳"]  # % and _ are letters here, not wildcards
        assert _found(session, "王_") == ["王_芳"]
        assert _found(session, "阿依古丽·") == ["阿依古丽·买买提"]
        assert _found(session, "芳") == []


def test_on_sqlite_a_name_search_reads_the_name_index(tmp_path: Path) -> None:
    """SQLite's LIKE ignores case, so it never uses a (case-sensitive) index by itself."""
    engine = make_engine(f"sqlite:///{tmp_path / 'search.sqlite'}", keyring=keyring_for_tests())
    migrate(engine)
    with Session(engine) as session:
        calls: list[str] = []
        connection = session.connection()
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.set_trace_callback(calls.append)
        _found(session, "王芳")
        raw.set_trace_callback(None)
        query = next(c for c in calls if c.lstrip().startswith("SELECT"))
        plan = " ".join(str(row[-1]) for row in raw.execute(f"EXPLAIN QUERY PLAN {query}"))
    engine.dispose()
    assert "INDEX ix_person_name" in plan, plan
