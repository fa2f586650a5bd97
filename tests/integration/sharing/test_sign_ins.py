"""A worker remembers a token's actor for a few seconds (deps.SignIns, decision 0009), yet a
disabled account, a revoked or an expired token is refused on the very next request, in every
worker: two apps over one database stand for two uvicorn workers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from gridweave.api import create_app
from gridweave.core import clock
from gridweave.core.database import make_engine, transaction
from gridweave.sharing import audit, identities
from gridweave.sharing.models import Account, AuditEntry
from gridweave.sharing.roles import Role
from tests.integration.sharing.conftest import GRID_A, GRID_B, City, TestClient, add_persona


@pytest.fixture
def other_worker(city: City) -> Iterator[TestClient]:
    """A second app over the same database, with its own engine and memory of sign-ins."""
    engine = make_engine(city.url, keyring=city.settings.keyring())
    with TestClient(create_app(city.settings, engine=engine)) as client:
        yield client
    engine.dispose()


def _remembered(client: TestClient, city: City, token: str) -> bool:
    digest = identities.token_digest(city.settings.secret_key, token)
    return client.app.state.sign_ins.get(digest) is not None  # type: ignore[attr-defined]


def _warm(clients: list[TestClient], city: City, token: str, path: str) -> None:
    """Each worker signs the token in once and remembers it."""
    for client in clients:
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        assert _remembered(client, city, token)


def _reads_by(city: City, username: str) -> int:
    with transaction(city.client.app.state.engine) as session:  # type: ignore[attr-defined]
        return int(
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.actor_name == username, AuditEntry.action == "person.read")
            )
            or 0
        )


def test_a_disabled_account_is_refused_on_its_next_request_in_every_worker(
    city: City, other_worker: TestClient
) -> None:
    username = add_persona(city, "cache_gw_disabled", Role.grid_worker, area=GRID_A)
    token = city.tokens[username]
    clients = [city.client, other_worker]
    _warm(clients, city, token, f"/people/{city.x.id}")
    _warm(clients, city, token, "/me")
    reads = _reads_by(city, username)
    with transaction(city.client.app.state.engine) as session:  # type: ignore[attr-defined]
        identities.disable_account(
            session,
            actor=identities.console_actor(Role.system_admin),
            trail=audit.Trail(),
            username=username,
        )
    headers = {"Authorization": f"Bearer {token}"}
    for client in clients:
        for path in (f"/people/{city.x.id}", "/me"):  # a route with a session, one without
            response = client.get(path, headers=headers)
            assert response.status_code == 401, (path, response.text)
            assert response.json()["code"] == "not_authenticated"
        assert not _remembered(client, city, token)
    assert _reads_by(city, username) == reads  # refused before the read: nothing shown, no entry


def test_a_logout_in_one_worker_is_refused_in_the_other(
    city: City, other_worker: TestClient
) -> None:
    username = add_persona(city, "cache_gw_logout", Role.grid_worker, area=GRID_A)
    headers = {"Authorization": f"Bearer {city.tokens[username]}"}
    _warm([city.client, other_worker], city, city.tokens[username], f"/people/{city.x.id}")
    assert city.client.post("/auth/logout", headers=headers).status_code == 204
    assert other_worker.get(f"/people/{city.x.id}", headers=headers).status_code == 401
    assert city.client.get("/me", headers=headers).status_code == 401


def test_an_expired_session_is_refused_though_remembered(city: City) -> None:
    username = add_persona(city, "cache_gw_expiry", Role.grid_worker, area=GRID_A)
    token = city.tokens[username]
    _warm([city.client], city, token, "/me")
    later = clock.now() + timedelta(minutes=city.settings.session_minutes + 1)
    clock.set_now(lambda: later)
    try:
        response = city.get(username, "/me")
    finally:
        clock.set_now(None)
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_a_changed_account_is_not_served_as_it_was_remembered(city: City) -> None:
    username = add_persona(city, "cache_gw_moved", Role.grid_worker, area=GRID_A)
    _warm([city.client], city, city.tokens[username], f"/people/{city.x.id}")
    with transaction(city.client.app.state.engine) as session:  # type: ignore[attr-defined]
        session.execute(
            update(Account).where(Account.username == username).values(area_code=GRID_B)
        )
    first = city.get(username, f"/people/{city.x.id}")
    assert first.status_code == 401  # remembered in grid A: refused, not read as grid A's
    again = city.get(username, f"/people/{city.x.id}")
    assert again.status_code == 403 and again.json()["code"] == "out_of_scope"  # now grid B's
    assert city.get(username, f"/people/{city.y.id}").status_code == 200
