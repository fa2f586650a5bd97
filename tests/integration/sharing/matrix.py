"""The authorisation matrix: every route × every persona × records in and out of scope.

Expected outcomes, in persona order (PERSONAS):
  whole   200, the person's name shown unmasked      masked  200, the name shown masked
  shown   200, the record among the search results   hidden  200, the record not among them
  ok      200                                        403 / 401 / 404  refused with that status
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.integration.sharing.conftest import GRID_A, City

ORDER = (
    "gw_a",
    "gw_b",
    "street_a",
    "police",
    "health",
    "civil",
    "auditor",
    "admin",
    "res_x",
    "res_y",
    "anon",
)

# the purpose each persona would name for its own work
PURPOSE = {
    "gw_a": "public_service",
    "gw_b": "public_service",
    "street_a": "case_handling",
    "police": "police_investigation",
    "health": "health_follow_up",
    "civil": "subsistence_allowance_review",
    "auditor": "case_handling",
    "admin": "case_handling",
    "res_x": "public_service",
    "res_y": "public_service",
    "anon": "public_service",
}


@dataclass(frozen=True)
class Call:
    key: str  # the route as written in the table
    path: Callable[[City], str]
    params: Callable[[City, str], dict[str, Any]] = lambda c, p: {}
    target: Callable[[City], tuple[str, int]] | None = None  # (entity, id) a search must find


def _x(c: City) -> tuple[str, int]:
    return ("person", c.x.id)


STAFF_SEARCH_A = (
    "shown",
    "hidden",
    "shown",
    "shown",
    "shown",
    "shown",
    "403",
    "403",
    "403",
    "403",
    "401",
)
IN_A = ("ok", "403", "ok", "ok", "ok", "ok", "403", "403", "403", "403", "401")
IN_B = ("403", "ok", "403", "ok", "ok", "ok", "403", "403", "403", "403", "401")
EVERYONE = ("ok",) * 10 + ("401",)
RESIDENTS = ("403",) * 8 + ("ok", "ok", "401")
AUDITORS = ("403",) * 6 + ("ok",) + ("403",) * 3 + ("401",)

MATRIX: list[tuple[Call, tuple[str, ...]]] = [
    (
        Call("GET /people?name=X", lambda c: "/people", lambda c, p: {"name": c.x.name}, _x),
        STAFF_SEARCH_A,
    ),
    (
        Call(
            "GET /people?citizen_id=X",
            lambda c: "/people",
            lambda c, p: {"citizen_id": c.x.citizen_id},
            _x,
        ),
        STAFF_SEARCH_A,
    ),
    (
        Call("GET /people?phone=X", lambda c: "/people", lambda c, p: {"phone": c.x.phone}, _x),
        STAFF_SEARCH_A,
    ),
    (
        Call("GET /people/X", lambda c: f"/people/{c.x.id}"),
        (
            "masked",
            "403",
            "masked",
            "masked",
            "masked",
            "masked",
            "403",
            "403",
            "whole",
            "403",
            "401",
        ),
    ),
    (
        Call(
            "GET /people/X?purpose=own",
            lambda c: f"/people/{c.x.id}",
            lambda c, p: {"purpose": PURPOSE[p]},
        ),
        # health follow-up needs the person's consent (test_consents.py): none given here
        ("whole", "403", "whole", "whole", "masked", "whole", "403", "403", "403", "403", "401"),
    ),
    (
        Call("GET /people/Y", lambda c: f"/people/{c.y.id}"),
        ("403", "masked", "403", "masked", "masked", "masked", "403", "403", "403", "whole", "401"),
    ),
    (
        Call(
            "GET /people/Y?purpose=own",
            lambda c: f"/people/{c.y.id}",
            lambda c, p: {"purpose": PURPOSE[p]},
        ),
        ("403", "whole", "403", "whole", "masked", "whole", "403", "403", "403", "403", "401"),
    ),
    (
        Call("GET /people/missing", lambda c: "/people/999999999"),
        ("404",) * 10 + ("401",),
    ),
    (
        Call(
            "GET /households?household_number=X",
            lambda c: "/households",
            lambda c, p: {"household_number": c.x.household_number},
            lambda c: ("household", c.x.household_id),
        ),
        STAFF_SEARCH_A,
    ),
    (
        Call("GET /households/X", lambda c: f"/households/{c.x.household_id}"),
        ("ok", "403", "ok", "ok", "ok", "ok", "403", "403", "ok", "403", "401"),
    ),
    (
        Call("GET /households/Y", lambda c: f"/households/{c.y.household_id}"),
        ("403", "ok", "403", "ok", "ok", "ok", "403", "403", "403", "ok", "401"),
    ),
    (
        Call(
            "GET /legal-entities?name=L",
            lambda c: "/legal-entities",
            lambda c, p: {"name": c.legal_entity_name},
            lambda c: ("legal_entity", c.legal_entity_id),
        ),
        ("shown",) * 6 + ("403", "403", "403", "403", "401"),
    ),
    (
        Call("GET /legal-entities/L", lambda c: f"/legal-entities/{c.legal_entity_id}"),
        ("ok",) * 6 + ("403", "403", "ok", "ok", "401"),
    ),
    (
        Call(
            "GET /buildings?grid_code=A",
            lambda c: "/buildings",
            lambda c, p: {"grid_code": GRID_A},
            lambda c: ("building", c.x.building_id),
        ),
        STAFF_SEARCH_A,
    ),
    (Call("GET /buildings/A", lambda c: f"/buildings/{c.x.building_id}"), IN_A),
    (Call("GET /buildings/B", lambda c: f"/buildings/{c.y.building_id}"), IN_B),
    (
        Call(
            "GET /rooms?room_code=X",
            lambda c: "/rooms",
            lambda c, p: {"room_code": c.x.room_code},
            lambda c: ("room", c.x.room_id),
        ),
        STAFF_SEARCH_A,
    ),
    (Call("GET /rooms/X", lambda c: f"/rooms/{c.x.room_id}"), IN_A),
    (Call("GET /rooms/Y", lambda c: f"/rooms/{c.y.room_id}"), IN_B),
    (
        Call(
            "GET /components?grid_code=A",
            lambda c: "/components",
            lambda c, p: {"grid_code": GRID_A},
            lambda c: ("city_component", c.component_a),
        ),
        STAFF_SEARCH_A,
    ),
    (Call("GET /components/A", lambda c: f"/components/{c.component_a}"), IN_A),
    (Call("GET /components/B", lambda c: f"/components/{c.component_b}"), IN_B),
    (Call("GET /catalog", lambda c: "/catalog"), EVERYONE),
    (Call("GET /catalog/police", lambda c: "/catalog/police_household_registration"), EVERYONE),
    (Call("GET /purposes", lambda c: "/purposes"), EVERYONE),
    (Call("GET /me", lambda c: "/me"), EVERYONE),
    (Call("GET /me/data", lambda c: "/me/data"), RESIDENTS),
    (Call("GET /me/accesses", lambda c: "/me/accesses"), RESIDENTS),
    (Call("GET /audit", lambda c: "/audit"), AUDITORS),
    (Call("GET /audit/verify", lambda c: "/audit/verify"), AUDITORS),
]
