"""A busy API keeps its database connections: no new PostgreSQL backend per request, and a
connection the server closed while it sat idle is replaced before a request sees it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool

from gridweave.api import create_app
from gridweave.core import database
from gridweave.core.database import make_engine
from gridweave.core.settings import Settings
from tests.conftest import empty_database, keyring_for_tests
from tests.integration.sharing.conftest import City


async def _read_concurrently(app: object, city: City, requests: int) -> list[int]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    headers = city.headers("police")
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:

        async def one() -> int:
            path = f"/people/{city.x.id}?purpose=police_investigation"
            return (await client.get(path, headers=headers)).status_code

        return list(await asyncio.gather(*(one() for _ in range(requests))))


def test_a_busy_api_opens_no_connection_per_request(city: City) -> None:
    if city.backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite opens no server connection to keep")
    app = create_app(Settings(database_url=city.url, api_concurrency=3))
    opened = []
    event.listen(app.state.engine, "connect", lambda *_: opened.append(1))

    async def run() -> list[int]:
        async with app.router.lifespan_context(app):
            first = await _read_concurrently(app, city, 40)
            return first + await _read_concurrently(app, city, 40)

    try:
        statuses = asyncio.run(run())
    finally:
        app.state.engine.dispose()
    assert statuses == [200] * 80
    # 80 requests, 40 at a time: served by the 3 connections the worker keeps (a pool smaller
    # than the thread pool closed and reopened one for most requests)
    assert len(opened) <= 3


def test_a_connection_closed_while_idle_is_replaced_unseen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with empty_database("postgresql", tmp_path) as url:
        engine = make_engine(url, keyring=keyring_for_tests())
        try:
            with engine.connect() as conn:
                first = conn.scalar(text("SELECT pg_backend_pid()"))
            # the server ends the pooled connection (a restart, an idle timeout)
            admin = create_engine(url, poolclass=NullPool)
            with admin.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            admin.dispose()
            monkeypatch.setattr(database, "IDLE_PING_SECONDS", 0.0)  # it has been idle long
            with engine.connect() as conn:
                again = conn.scalar(text("SELECT pg_backend_pid()"))
            assert again not in (None, first)
        finally:
            engine.dispose()
