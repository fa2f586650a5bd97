"""Searching the base library by a name's first characters finds exactly the names that start
with them, and looks them up in the name index instead of reading every person."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from gridweave.registry.attributes import EntityType
from gridweave.registry.models import Person
from gridweave.registry.queries import search

NAMES = ["王芳", "王芳芳", "王芳𠀀", "王芬", "王", "李王芳", "王%芳", "王_芳", "阿依古丽·买买提"]


def _found(session: Session, prefix: str) -> list[str | None]:
    people = search(session, EntityType.person, criteria={"name": prefix}, grids=None, limit=50)
    return [p.name for p in people]


def _add_people(session: Session, names: list[str], first_id: int = 1) -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    session.add_all(
        Person(id=i, name=n, provenance={}, sources=1, created_at=now, updated_at=now)
        for i, n in enumerate(names, start=first_id)
    )
    session.flush()


def test_a_name_search_finds_the_names_that_start_with_it(engine: Engine) -> None:
    with Session(engine) as session:
        _add_people(session, NAMES)
        assert _found(session, "王芳") == ["王芳", "王芳芳", "王芳𠀀"]  # a character beyond U+FFFF
        assert _found(session, "王") == ["王芳", "王芳芳", "王芳𠀀", "王芬", "王", "王%芳", "王_芳"]
        assert _found(session, "王%") == ["王%芳"]  # % and _ are letters here, not wildcards
        assert _found(session, "王_") == ["王_芳"]
        assert _found(session, "阿依古丽·") == ["阿依古丽·买买提"]
        assert _found(session, "芳") == []


def test_a_name_search_reads_the_name_index(engine: Engine) -> None:
    """SQLite's LIKE ignores case, PostgreSQL's follows the collation: neither uses a plain
    index by itself."""
    with Session(engine) as session:
        _add_people(session, [f"姓{i:05d}" for i in range(3000)])  # enough for an index to pay
        connection = session.connection()
        connection.exec_driver_sql("ANALYZE person")
        sent: list[tuple[str, Any]] = []

        def remember(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            sent.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", remember)
        try:
            assert _found(session, "姓0123") == [f"姓0123{i}" for i in range(10)]
        finally:
            event.remove(engine, "before_cursor_execute", remember)
        query, parameters = next((q, p) for q, p in sent if "FROM person" in q)
        explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        rows = connection.exec_driver_sql(explain + query, parameters).all()
    plan = " ".join(str(row[-1]) for row in rows)
    assert "ix_person_name" in plan, plan
