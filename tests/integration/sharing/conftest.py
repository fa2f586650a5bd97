"""A synthetic city ingested into SQLite or PostgreSQL, with named personas signed in to the API.

Personas (style rule 8): a grid worker of grid A and one of grid B (another street), the street
officer over grid A, police, health and civil-affairs officers, an auditor, a system
administrator, resident X (lives in grid A) and resident Y (grid B), and anonymous.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from gridweave.api import create_app
from gridweave.areas.service import load_areas
from gridweave.core.database import make_engine, migrate, transaction
from gridweave.core.settings import Settings
from gridweave.ingest.service import ingest_file, register_source
from gridweave.registry.attributes import EntityType
from gridweave.registry.models import Building, CityComponent, Household, LegalEntity, Person, Room
from gridweave.registry.service import golden_values
from gridweave.sharing import audit, identities
from gridweave.sharing.roles import Role
from tests.conftest import empty_database, keyring_for_tests

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette prefers httpx2 for its test client; httpx is ours
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"
GRID_A, GRID_B = "440303001001002", "440303002001002"
STREET_A, DISTRICT, CITY = "440303001", "440303", "440300"

# persona → (role, department, area)
PERSONAS: dict[str, tuple[Role, str | None, str | None]] = {
    "gw_a": (Role.grid_worker, None, GRID_A),
    "gw_b": (Role.grid_worker, None, GRID_B),
    "street_a": (Role.street_officer, None, STREET_A),
    "police": (Role.department_officer, "public_security", CITY),
    "health": (Role.department_officer, "health", CITY),
    "civil": (Role.department_officer, "civil_affairs", DISTRICT),
    "auditor": (Role.auditor, None, None),
    "admin": (Role.system_admin, None, None),
    "res_x": (Role.resident, None, None),
    "res_y": (Role.resident, None, None),
}


@dataclass
class FixturePerson:
    id: int
    name: str
    citizen_id: str
    phone: str
    household_id: int
    household_number: str
    room_id: int
    room_code: str
    building_id: int


@dataclass
class City:
    """The database, the app over it, and what the tests refer to by name."""

    backend: str
    url: str
    settings: Settings
    client: TestClient
    x: FixturePerson
    y: FixturePerson
    legal_entity_id: int
    legal_entity_name: str
    component_a: int
    component_b: int
    tokens: dict[str, str] = field(default_factory=dict)
    people: list[tuple[int, str, str | None, str | None]] = field(default_factory=list)

    def headers(self, persona: str, **extra: str) -> dict[str, str]:
        token = self.tokens.get(persona)
        return {**({"Authorization": f"Bearer {token}"} if token else {}), **extra}

    def get(self, persona: str, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params or None, headers=self.headers(persona))


@pytest.fixture(scope="session")
def city_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from gridweave.synth.city import synthesise

    out = tmp_path_factory.mktemp("city")
    synthesise(out, people=500, seed=3)
    return out


def _ingest(url: str, city: Path) -> None:
    engine = make_engine(url, keyring=keyring_for_tests())
    migrate(engine)
    manifest = orjson.loads((city / "manifest.json").read_bytes())
    with transaction(engine) as session:
        load_areas(session, path=city / manifest["areas"])
        for extract in manifest["extracts"]:
            register_source(session, path=city / extract["contract"])
    for extract in manifest["extracts"]:
        ingest_file(engine, path=city / extract["file"], source_name=extract["source"])
    engine.dispose()


def _person_in(session: Any, grid: str) -> FixturePerson:
    """The first person living in `grid` with an id, a phone and a household all in that grid."""
    rows = session.execute(
        select(Person, Household.id, Room.id, Room.room_code, Building.id)
        .join(Room, Room.room_code == Person.residence_room_code)
        .join(Building, Building.building_code == Room.building_code)
        .join(Household, Household.household_number == Person.household_number)
        .where(
            Building.grid_code == grid,
            Person.citizen_id.is_not(None),
            Person.phone.is_not(None),
            Person.name.is_not(None),
        )
        .order_by(Person.id)
    ).all()
    for p, household_id, room_id, room_code, building_id in rows:
        grids = set(
            session.scalars(
                select(Building.grid_code)
                .join(Room, Room.building_code == Building.building_code)
                .join(Person, Person.residence_room_code == Room.room_code)
                .where(Person.household_number == p.household_number)
            )
        )
        if grids == {grid}:
            clear = golden_values(session, EntityType.person, p)
            return FixturePerson(
                p.id,
                p.name,
                clear["citizen_id"],
                clear["phone"],
                household_id,
                p.household_number,
                room_id,
                room_code,
                building_id,
            )
    raise AssertionError(f"no suitable person in grid {grid}")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def city_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty database for one test module: a SQLite file or a fresh PostgreSQL schema."""
    with empty_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="module")
def city(city_url: str, city_dir: Path) -> Iterator[City]:
    """The synthetic city ingested, every persona's account made and signed in over HTTP."""
    _ingest(city_url, city_dir)
    settings = Settings(database_url=city_url)
    app = create_app(settings)
    engine = app.state.engine
    console = identities.console_actor(Role.system_admin)
    with transaction(engine) as session:
        x, y = _person_in(session, GRID_A), _person_in(session, GRID_B)
        firm = session.execute(select(LegalEntity.id, LegalEntity.name).limit(1)).one()
        comp_a, comp_b = (
            session.scalar(select(CityComponent.id).where(CityComponent.grid_code == g).limit(1))
            for g in (GRID_A, GRID_B)
        )
        people = [
            (p.id, p.name, v["citizen_id"], v["phone"])
            for p in session.scalars(select(Person))
            for v in [golden_values(session, EntityType.person, p)]
        ]
        for persona, (role, department, area) in PERSONAS.items():
            person_id = {"res_x": x.id, "res_y": y.id}.get(persona)
            identities.create_account(
                session,
                actor=console,
                trail=audit.Trail(),
                username=persona,
                display_name=persona,
                role=role,
                password=PASSWORD,
                department=department,
                area_code=area,
                person_id=person_id,
            )
    assert comp_a is not None and comp_b is not None
    client = TestClient(app)
    built = City(
        backend=engine.dialect.name,
        url=city_url,
        settings=settings,
        client=client,
        x=x,
        y=y,
        legal_entity_id=firm[0],
        legal_entity_name=firm[1],
        component_a=comp_a,
        component_b=comp_b,
        people=people,
    )
    for persona in PERSONAS:
        response = client.post("/auth/token", json={"username": persona, "password": PASSWORD})
        assert response.status_code == 200, response.text
        built.tokens[persona] = response.json()["access_token"]
    yield built
    client.close()
    engine.dispose()


def add_persona(
    city: City,
    username: str,
    role: Role,
    *,
    department: str | None = None,
    area: str | None = None,
    person_id: int | None = None,
) -> str:
    """Make one more account (an officer of another department, a guardian) and sign it in."""
    engine = city.client.app.state.engine  # type: ignore[attr-defined]
    with transaction(engine) as session:
        identities.create_account(
            session,
            actor=identities.console_actor(Role.system_admin),
            trail=audit.Trail(),
            username=username,
            display_name=username,
            role=role,
            password=PASSWORD,
            department=department,
            area_code=area,
            person_id=person_id,
        )
    response = city.client.post("/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    city.tokens[username] = response.json()["access_token"]
    return username


def audit_actions(city: City, **filters: Any) -> list[dict[str, Any]]:
    """Audit entries (as the auditor sees them) matching the filters, oldest first."""
    response = city.client.get(
        "/audit", params={"limit": 1000, **filters}, headers=city.headers("auditor")
    )
    assert response.status_code == 200, response.text
    return list(response.json())


def outbox(city: City, event: str) -> list[dict[str, Any]]:
    """Messages of one event in the outbox, oldest first (recipient and payload)."""
    from gridweave.messages.models import OutboxMessage

    engine = city.client.app.state.engine  # type: ignore[attr-defined]
    with transaction(engine) as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.event == event).order_by(OutboxMessage.id)
        )
        return [
            {"kind": m.recipient_kind, "to": m.recipient, "payload": m.payload, "status": m.status}
            for m in rows
        ]
