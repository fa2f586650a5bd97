"""Walk every route of the app: a route that returns anyone's personal data must have asked the
gate about it during that request, and a route not known to this walk fails the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select

from gridweave.core import clock
from gridweave.registry.attributes import EntityType
from gridweave.registry.models import Person
from gridweave.registry.service import golden_values
from gridweave.sharing import gate
from gridweave.sharing.deps import Db, UnitOfWorkRoute
from gridweave.sharing.roles import Role
from tests.integration.sharing.conftest import (
    CITY,
    GRID_A,
    PASSWORD,
    City,
    TestClient,
    add_persona,
)

# (method, path) → (persona, path, query — or for a POST its JSON body) of a request that
# succeeds, making what it needs first (an application to approve, a consent to grant);
# `personal`: the route serves personal data, so the gate must be asked.
Request = Callable[[City], tuple[str, str, dict[str, Any]]]
WALK: dict[tuple[str, str], tuple[bool, Request]] = {
    ("GET", "/people"): (True, lambda c: ("police", "/people", {"name": c.x.name})),
    ("GET", "/people/{record_id}"): (
        True,
        lambda c: ("police", f"/people/{c.x.id}", {"purpose": "police_investigation"}),
    ),
    ("GET", "/households"): (
        True,
        lambda c: ("police", "/households", {"household_number": c.x.household_number}),
    ),
    ("GET", "/households/{record_id}"): (
        True,
        lambda c: (
            "police",
            f"/households/{c.x.household_id}",
            {"purpose": "police_investigation"},
        ),
    ),
    ("GET", "/legal-entities"): (True, lambda c: ("gw_a", "/legal-entities", {"limit": 50})),
    ("GET", "/legal-entities/{record_id}"): (
        True,
        lambda c: ("gw_a", f"/legal-entities/{c.legal_entity_id}", {}),
    ),
    ("GET", "/buildings"): (True, lambda c: ("gw_a", "/buildings", {"grid_code": GRID_A})),
    ("GET", "/buildings/{record_id}"): (
        True,
        lambda c: ("gw_a", f"/buildings/{c.x.building_id}", {}),
    ),
    ("GET", "/rooms"): (True, lambda c: ("gw_a", "/rooms", {"room_code": c.x.room_code})),
    ("GET", "/rooms/{record_id}"): (
        True,
        lambda c: ("gw_a", f"/rooms/{c.x.room_id}", {"purpose": "case_handling"}),
    ),
    ("GET", "/components"): (True, lambda c: ("gw_a", "/components", {"grid_code": GRID_A})),
    ("GET", "/components/{record_id}"): (
        True,
        lambda c: ("gw_a", f"/components/{c.component_a}", {}),
    ),
    ("GET", "/me/data"): (True, lambda c: ("res_x", "/me/data", {})),
    ("GET", "/me/accesses"): (False, lambda c: ("res_x", "/me/accesses", {})),
    ("GET", "/me"): (False, lambda c: ("res_x", "/me", {})),
    ("GET", "/purposes"): (False, lambda c: ("police", "/purposes", {})),
    ("GET", "/catalog"): (False, lambda c: ("gw_a", "/catalog", {})),
    ("GET", "/catalog/{name}"): (
        False,
        lambda c: ("gw_a", "/catalog/police_household_registration", {}),
    ),
    ("GET", "/audit"): (False, lambda c: ("auditor", "/audit", {"limit": 1000})),
    ("GET", "/audit/verify"): (False, lambda c: ("auditor", "/audit/verify", {})),
    ("POST", "/auth/token"): (
        False,
        lambda c: ("anon", "/auth/token", {"username": "gw_b", "password": PASSWORD}),
    ),
    ("POST", "/auth/logout"): (False, lambda c: ("anon", "/auth/logout", {})),
    ("POST", "/me/password"): (
        False,
        lambda c: ("anon", "/me/password", {"current_password": "x", "new_password": "y" * 12}),
    ),
    # applications and grants (no personal data: resources, fields, purposes, periods)
    ("POST", "/applications"): (False, lambda c: ("civil", "/applications", _application_body())),
    ("GET", "/applications"): (False, lambda c: (_hr(c), "/applications", {"status": "pending"})),
    ("GET", "/applications/{application_id}"): (
        False,
        lambda c: ("civil", f"/applications/{_application(c)}", {}),
    ),
    ("POST", "/applications/{application_id}/approve"): (
        False,
        lambda c: (_hr(c), f"/applications/{_application(c)}/approve", {"note": "同意"}),
    ),
    ("POST", "/applications/{application_id}/refuse"): (
        False,
        lambda c: (_hr(c), f"/applications/{_application(c)}/refuse", {"reason": "不符合条件"}),
    ),
    ("POST", "/applications/{application_id}/revoke"): (
        False,
        lambda c: (_hr(c), f"/applications/{_approved(c)}/revoke", {"reason": "工作结束"}),
    ),
    ("POST", "/applications/{application_id}/withdraw"): (
        False,
        lambda c: ("civil", f"/applications/{_application(c)}/withdraw", {"reason": "重复申请"}),
    ),
    # consent (ids and statuses, never values)
    ("POST", "/consents"): (False, lambda c: ("health", "/consents", _consent_body(c))),
    ("GET", "/consents"): (False, lambda c: ("health", "/consents", {})),
    ("POST", "/consents/{consent_id}/withdraw"): (
        False,
        lambda c: ("health", f"/consents/{_consent(c)}/withdraw", {"reason": "随访对象有误"}),
    ),
    ("GET", "/me/consents"): (False, lambda c: ("res_x", "/me/consents", {})),
    ("POST", "/me/consents/{consent_id}/grant"): (
        False,
        lambda c: ("res_x", f"/me/consents/{_consent(c)}/grant", {}),
    ),
    ("POST", "/me/consents/{consent_id}/refuse"): (
        False,
        lambda c: ("res_x", f"/me/consents/{_consent(c)}/refuse", {}),
    ),
    ("POST", "/me/consents/{consent_id}/revoke"): (
        False,
        lambda c: ("res_x", f"/me/consents/{_consent(c, granted=True)}/revoke", {}),
    ),
    # corrections: the disputed values are personal, shown only through the gate
    ("POST", "/me/corrections"): (
        True,
        lambda c: ("res_x", "/me/corrections", {"attribute": "name", "reason": "写错了"}),
    ),
    ("GET", "/me/corrections"): (
        True,
        lambda c: ("res_x", "/me/corrections", _corrected(c, "citizen_id")),
    ),
    ("GET", "/corrections"): (True, lambda c: ("health", "/corrections", _corrected(c, "phone"))),
    ("POST", "/corrections/{correction_id}/accept"): (
        False,
        lambda c: (
            "police",
            f"/corrections/{_correction(c, 'marital_status')}/accept",
            {"corrected_value": "已更正的值"},
        ),
    ),
    ("POST", "/corrections/{correction_id}/reject"): (
        False,
        lambda c: (
            "police",
            f"/corrections/{_correction(c, 'hukou_address')}/reject",
            {"reason": "与户籍登记一致"},
        ),
    ),
}


def _hr(city: City) -> str:
    """An officer of human resources, the provider of hrss_insurance (made once)."""
    if "hr_officer" not in city.tokens:
        add_persona(
            city, "hr_officer", Role.department_officer, department="human_resources", area=CITY
        )
    return "hr_officer"


def _application_body() -> dict[str, Any]:
    return {
        "resource": "hrss_insurance",
        "purpose": "subsistence_allowance_review",
        "fields": ["insurance_months"],
        "reason": "核对低保申请家庭的社保缴费情况",
        "valid_until": (clock.now() + timedelta(days=30)).isoformat(),
    }


def _application(city: City) -> int:
    """A pending application of civil affairs to human resources."""
    made = city.client.post(
        "/applications", json=_application_body(), headers=city.headers("civil")
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _approved(city: City) -> int:
    application = _application(city)
    approve = f"/applications/{application}/approve"
    assert city.client.post(approve, json={}, headers=city.headers(_hr(city))).status_code == 200
    return application


def _consent_body(city: City) -> dict[str, Any]:
    return {
        "person_id": city.x.id,
        "purpose": "health_follow_up",
        "fields": ["phone"],
        "reason": "随访",
        "valid_until": (clock.now() + timedelta(days=30)).isoformat(),
    }


def _consent(city: City, granted: bool = False) -> int:
    """A consent request of health to resident X, granted or still pending."""
    made = city.client.post("/consents", json=_consent_body(city), headers=city.headers("health"))
    assert made.status_code == 201, made.text
    consent = int(made.json()["id"])
    if granted:
        grant = f"/me/consents/{consent}/grant"
        assert city.client.post(grant, headers=city.headers("res_x")).status_code == 200
    return consent


def _correction(city: City, attribute: str) -> int:
    """Resident X disputes one value; returns the request's id."""
    body = {"attribute": attribute, "reason": "有误"}
    made = city.client.post("/me/corrections", json=body, headers=city.headers("res_x"))
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _corrected(city: City, attribute: str) -> dict[str, Any]:
    """Make a correction request to list; no query parameters."""
    _correction(city, attribute)
    return {}


FRAMEWORK = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) of every API route, descending into included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):  # FastAPI's record of include_router()
            inner = prefix + getattr(route.include_context, "prefix", "")
            yield from _api_routes(route.original_router.routes, inner)
        else:
            assert getattr(route, "path", None) in FRAMEWORK, f"unexpected route {route!r:.200}"


def _walk(routes: list[Any]) -> Iterator[tuple[str, str]]:
    """(method, path) of every API route."""
    for path, route in _api_routes(routes):
        yield from ((m, path) for m in route.methods)


def _routes(city: City) -> set[tuple[str, str]]:
    found = set(_walk(city.client.app.routes))  # type: ignore[attr-defined]
    spec = city.client.get("/openapi.json").json()["paths"]
    documented = {(m.upper(), p) for p, ops in spec.items() for m in ops}
    assert documented <= found  # the walk sees at least what the OpenAPI document lists
    return found


def test_every_route_commits_its_work_in_its_own_thread(city: City) -> None:
    routes = list(_api_routes(city.client.app.routes))  # type: ignore[attr-defined]
    assert routes
    plain = [path for path, route in routes if not isinstance(route, UnitOfWorkRoute)]
    assert not plain, f"routes without UnitOfWorkRoute: {plain}"


def test_every_route_is_walked(city: City) -> None:
    unknown = _routes(city) - set(WALK)
    assert not unknown, f"routes this walk does not know; add them to WALK: {sorted(unknown)}"


def _personal_values(city: City) -> list[str]:
    """Raw names, ids and phones of every fixture person (names of 2+ characters)."""
    values: set[str] = set()
    for _, name, citizen_id, phone in city.people:
        values |= {v for v in (name, citizen_id, phone) if v and len(v) >= 2}
    values.add(city.x.room_code)  # a room code locates a person's home
    return sorted(values, key=len, reverse=True)


@pytest.mark.parametrize("route", sorted(WALK), ids=lambda r: f"{r[0]} {r[1]}")
def test_personal_data_only_through_the_gate(
    city: City, route: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    personal, request = WALK[route]
    persona, path, params = request(city)
    calls: list[str] = []
    decide = gate.decide

    def recording(*args: Any, **kwargs: Any) -> gate.Decision:
        calls.append(args[2])
        return decide(*args, **kwargs)

    monkeypatch.setattr(gate, "decide", recording)
    if route[0] == "POST":  # the third part is the body
        response = city.client.post(path, json=params, headers=city.headers(persona))
    else:
        response = city.client.get(path, params=params, headers=city.headers(persona))
    assert response.status_code in (200, 201, 401), response.text
    assert not _problems(city, route, personal, response, calls)


def _problems(
    city: City, route: tuple[str, str], personal: bool, response: Any, calls: list[str]
) -> list[str]:
    """What is wrong with one walked request: personal data served without asking the gate."""
    leaked = [v for v in _personal_values(city) if v in response.text]
    problems = []
    if personal and not (response.status_code in (200, 201) and calls):
        problems.append(f"{route} answered without asking the gate")
    if not personal and leaked:
        problems.append(f"{route} returns personal data: {leaked[:3]}")
    if leaked and not calls:
        problems.append(f"{route} returned {leaked[:3]} without asking the gate")
    return problems


def test_the_walk_would_catch_a_route_that_skips_the_gate(city: City) -> None:
    """The detector itself: a route reading a person without the gate is seen leaking."""
    rogue = FastAPI()

    @rogue.get("/rogue")
    def read(db: Db) -> dict[str, str | None]:
        person = db.scalar(select(Person).where(Person.id == city.x.id))
        assert person is not None
        # decrypted, as a careless route would, but not through the gate
        return {"name": person.name, "phone": golden_values(db, EntityType.person, person)["phone"]}

    rogue.state.sessions = city.client.app.state.sessions  # type: ignore[attr-defined]
    with TestClient(rogue) as client:
        response = client.get("/rogue")
    assert response.status_code == 200
    assert _problems(city, ("GET", "/rogue"), True, response, calls=[])
    assert _problems(city, ("GET", "/rogue"), False, response, calls=[])
