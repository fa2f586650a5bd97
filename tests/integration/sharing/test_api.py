"""The API over HTTP: sign-in and lockout, errors in zh-CN and en, OpenAPI, the resident's data
with provenance, the data tracker with confidential purposes, the catalog, hostile input, and
that an access and its audit entry commit or roll back together."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridweave.core import clock
from gridweave.core.database import make_engine, transaction
from gridweave.sharing import api as sharing_api
from gridweave.sharing import audit, identities
from gridweave.sharing.models import AuditEntry
from gridweave.sharing.roles import Role
from tests.conftest import keyring_for_tests
from tests.integration.sharing.conftest import (
    GRID_A,
    PASSWORD,
    City,
    TestClient,
    add_persona,
    audit_actions,
)


@pytest.fixture
def db(city: City) -> Iterator[Any]:
    engine = make_engine(city.url, keyring=keyring_for_tests())
    yield engine
    engine.dispose()


def _entries(engine: Any, **where: Any) -> list[AuditEntry]:
    with Session(engine) as session:
        query = select(AuditEntry).order_by(AuditEntry.seq)
        for k, v in where.items():
            query = query.where(getattr(AuditEntry, k) == v)
        return list(session.scalars(query))


def _login(city: City, username: str, password: str = PASSWORD) -> Any:
    return city.client.post("/auth/token", json={"username": username, "password": password})


def test_openapi_lists_every_route_with_bearer_security(city: City) -> None:
    spec = city.client.get("/openapi.json").json()
    assert {
        "/people",
        "/people/{record_id}",
        "/me/data",
        "/me/accesses",
        "/audit",
        "/catalog",
    } <= set(spec["paths"])
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_errors_are_json_with_a_stable_code_in_zh_by_default_and_en_on_request(city: City) -> None:
    zh = city.client.get("/people")
    en = city.client.get("/people", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert zh.status_code == en.status_code == 401
    assert zh.json()["code"] == en.json()["code"] == "not_authenticated"
    assert zh.json()["message"] == "未登录或登录已过期"
    assert "signed in" in en.json()["message"]
    assert zh.headers["www-authenticate"] == "Bearer"
    out = city.get("gw_a", f"/people/{city.y.id}")
    assert out.json() == {"code": "out_of_scope", "message": out.json()["message"]}
    assert "管辖区域" in out.json()["message"]
    bad = city.client.get("/people", params={"limit": 0}, headers=city.headers("gw_a"))
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_request"
    missing = city.client.get("/no-such-route", headers={"Accept-Language": "en"})
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_every_response_carries_a_request_id_and_no_store(city: City) -> None:
    response = city.get("police", f"/people/{city.x.id}")
    assert len(response.headers["x-request-id"]) == 32
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_login_locks_after_five_failures(city: City, db: Any) -> None:
    with transaction(db) as session:
        identities.create_account(
            session,
            actor=identities.console_actor(Role.system_admin),
            trail=audit.Trail(),
            username="lock_me",
            display_name="x",
            role=Role.grid_worker,
            password=PASSWORD,
            area_code=GRID_A,
        )
    codes = [_login(city, "lock_me", "wrong password").json()["code"] for _ in range(5)]
    assert codes == ["invalid_credentials"] * 5
    locked = _login(city, "lock_me")
    assert locked.status_code == 423 and locked.json()["code"] == "account_locked"
    assert len(_entries(db, action="auth.login_failed", actor_name="lock_me")) == 6


def test_logout_ends_the_session(city: City) -> None:
    token = _login(city, "gw_b").json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert city.client.get("/me", headers=headers).status_code == 200
    assert city.client.post("/auth/logout", headers=headers).status_code == 204
    assert city.client.get("/me", headers=headers).status_code == 401


def test_a_user_changes_their_password_and_their_other_sessions_end(city: City) -> None:
    add_persona(city, "pw_owner", Role.grid_worker, area=GRID_A)
    here = {"Authorization": f"Bearer {city.tokens['pw_owner']}", "Accept-Language": "en"}
    elsewhere = {"Authorization": f"Bearer {_login(city, 'pw_owner').json()['access_token']}"}
    new = "a new and longer passphrase"
    wrong = city.client.post(
        "/me/password", json={"current_password": "not it", "new_password": new}, headers=here
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
    weak = city.client.post(
        "/me/password", json={"current_password": PASSWORD, "new_password": "x"}, headers=here
    )
    assert weak.status_code == 400 and "at least" in weak.json()["message"]
    changed = city.client.post(
        "/me/password", json={"current_password": PASSWORD, "new_password": new}, headers=here
    )
    assert changed.status_code == 204, changed.text
    assert city.client.get("/me", headers=here).status_code == 200
    assert city.client.get("/me", headers=elsewhere).status_code == 401
    assert _login(city, "pw_owner").status_code == 401
    assert _login(city, "pw_owner", new).status_code == 200


def test_me_data_shows_the_residents_own_record_with_provenance(city: City) -> None:
    body = city.get("res_x", "/me/data").json()
    assert body["record"]["id"] == city.x.id
    assert body["record"]["values"]["citizen_id"] == city.x.citizen_id
    assert body["record"]["masked"] == []
    by_attr = {p["attribute"]: p for p in body["provenance"]}
    assert by_attr["name"]["value"] == city.x.name
    assert by_attr["name"]["department"] == "深圳市公安局罗湖分局"  # police registration wins names
    assert by_attr["name"]["label"] == "姓名"
    assert sum(c["chosen"] for c in by_attr["name"]["claims"]) == 1
    assert len({c["source"] for c in by_attr["name"]["claims"]}) >= 1


def _accesses(city: City, persona: str, lang: str = "zh") -> list[dict[str, Any]]:
    headers = city.headers(persona, **({"Accept-Language": "en"} if lang == "en" else {}))
    response = city.client.get("/me/accesses", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def test_the_tracker_shows_who_read_what_for_which_purpose(city: City) -> None:
    assert city.get("health", f"/people/{city.x.id}", purpose="health_follow_up").status_code == 200
    seen = [a for a in _accesses(city, "res_x") if a["purpose"] == "health_follow_up"]
    assert seen, "the health officer's read is shown"
    newest = seen[0]
    assert newest["department"] == "health" and newest["department_label"] == "卫生健康"
    assert newest["role_label"] == "部门工作人员" and newest["purpose_label"] == "健康随访服务"
    assert "name" in newest["fields"] and "school" not in newest["fields"]
    english = next(a for a in _accesses(city, "res_x", "en") if a["purpose"] == "health_follow_up")
    assert english["purpose_label"] == "health follow-up"
    assert not [a for a in _accesses(city, "res_y") if a["purpose"] == "health_follow_up"]


def test_a_household_read_is_in_every_members_tracker(city: City) -> None:
    read = city.get("gw_a", f"/households/{city.x.household_id}", purpose="case_handling")
    assert read.status_code == 200
    found = city.get("gw_a", "/households", household_number=city.x.household_number)
    assert found.status_code == 200
    mine = [a for a in _accesses(city, "res_x") if a["entity"] == "household"]
    assert [a["purpose"] for a in mine[:2]] == [None, "case_handling"]  # newest first
    assert mine[1]["role"] == "grid_worker" and mine[1]["fields"]
    # resident Y lives in another household: none of it reaches them
    assert not [a for a in _accesses(city, "res_y") if a["entity"] == "household"]
    entry = next(
        e
        for e in audit_actions(city, action="household.read")
        if e["record_id"] == city.x.household_id
    )
    assert city.x.id in entry["detail"]["members"]


def test_a_confidential_purpose_is_withheld_until_its_release_date(city: City) -> None:
    assert (
        city.get("police", f"/people/{city.y.id}", purpose="police_investigation").status_code
        == 200
    )

    def police_reads() -> list[dict[str, Any]]:
        return [a for a in _accesses(city, "res_y") if a["purpose"] == "police_investigation"]

    assert police_reads() == []
    later = datetime.now(UTC) + timedelta(days=181)
    clock.set_now(lambda: later)
    try:
        city.tokens["res_y"] = _login(city, "res_y").json()["access_token"]  # the old one expired
        released = police_reads()
    finally:
        clock.set_now(None)
    assert len(released) == 1 and released[0]["department"] == "public_security"


def test_the_catalog_lists_sources_with_sharing_conditions_and_owners(city: City) -> None:
    catalog = {e["name"]: e for e in city.get("gw_a", "/catalog").json()}
    assert len(catalog) == 11  # the synthetic city's extracts, the tax register too
    assert catalog["market_entities"]["sharing"] == "shared_freely"
    assert catalog["market_entities"]["sharing_label"] == "无条件共享"
    civil = city.get("gw_a", "/catalog/civil_affairs_subsistence").json()
    owners = {a["attribute"]: a["owners"] for a in civil["attributes"]}
    assert owners["allowance_amount"] == ["civil_affairs"]
    classes = {a["attribute"]: a["sensitivity"] for a in civil["attributes"]}
    assert classes["allowance_amount"] == "restricted"
    assert city.get("gw_a", "/catalog/no_such_source").json()["code"] == "not_found"


def test_purposes_are_listed_per_role(city: City) -> None:
    police = {p["code"] for p in city.get("police", "/purposes").json()}
    grid = {p["code"] for p in city.get("gw_a", "/purposes").json()}
    assert "police_investigation" in police and "police_investigation" not in grid
    assert "public_service" in grid and city.get("auditor", "/purposes").json() == []


HOSTILE = [
    "' OR '1'='1",
    "'; DROP TABLE person; --",
    '" OR 1=1 --',
    "%",
    "_",
    "张%",
    "<script>alert(1)</script>",
    "</script><img src=x onerror=alert(1)>",
    "${jndi:ldap://x}",
    "\\x00",
    "张\x00三",
    "\n\r",
    "罗湖区' UNION SELECT citizen_id FROM person --",
]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/people", "name"),
        ("/people", "address"),
        ("/people", "citizen_id"),
        ("/people", "phone"),
        ("/households", "address"),
        ("/legal-entities", "name"),
        ("/rooms", "address"),
        ("/audit", "actor"),
        ("/audit", "action"),
    ],
)
def test_hostile_text_is_a_clean_4xx_or_harmless_data(
    city: City, path: str, param: str, value: str
) -> None:
    persona = "auditor" if path == "/audit" else "police"
    response = city.client.get(path, params={param: value}, headers=city.headers(persona))
    assert response.status_code in (200, 422), response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    if response.status_code == 422:
        assert body["code"] == "invalid_request"
    else:
        assert body == [], f"{param}={value!r} matched {len(body)} records"


def test_the_person_table_survives_the_injection_attempts(city: City, db: Any) -> None:
    with Session(db) as session:
        from gridweave.registry.models import Person

        assert session.scalar(select(func.count()).select_from(Person)) == len(city.people)


def test_a_failed_response_rolls_back_its_audit_entry(
    city: City, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gridweave.registry.api as registry_api

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("serialisation failed")

    monkeypatch.setattr(registry_api, "record_out", broken)
    with TestClient(city.client.app, raise_server_exceptions=False) as client:
        response = client.get(f"/people/{city.x.id}", headers=city.headers("police"))
    assert response.status_code == 500 and response.json()["code"] == "internal_error"
    assert _entries(db, request_id=response.headers["x-request-id"]) == []
    assert sharing_api.record_out is not broken


def test_a_refused_read_is_audited(city: City, db: Any) -> None:
    response = city.get("gw_b", f"/people/{city.x.id}")
    assert response.status_code == 403
    (entry,) = _entries(db, request_id=response.headers["x-request-id"])
    assert (entry.action, entry.outcome, entry.person_id) == ("person.read", "deny", city.x.id)
    assert set(entry.fields.values()) == {"deny"}  # type: ignore[union-attr]
    named = city.get("gw_a", f"/people/{city.x.id}", purpose="police_investigation")
    assert named.json()["code"] == "purpose_not_allowed"
    (refused,) = _entries(db, request_id=named.headers["x-request-id"])
    assert refused.detail == {"reason": "purpose_not_allowed"}


def test_auditors_search_the_log_over_the_api(city: City) -> None:
    city.get("police", f"/people/{city.x.id}", purpose="police_investigation")
    found = city.get("auditor", "/audit", actor="police", action="person.read").json()
    assert found and all(e["actor_name"] == "police" for e in found)
    assert all(len(e["hash"]) == 64 for e in found)
    assert city.get("auditor", "/audit/verify").json()["ok"] is True
    assert city.get("admin", "/audit").status_code == 403
