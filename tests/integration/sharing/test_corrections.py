"""Correction requests over HTTP on SQLite and PostgreSQL: a resident disputes a value, the
department that supplied it (by provenance) sees it in its inbox through the gate and answers,
and the resident sees the answer."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from gridweave.core.database import transaction
from gridweave.ingest.models import Source, SourceRecord
from gridweave.registry.models import Person
from gridweave.sharing import audit, identities
from gridweave.sharing.errors import SharingError
from gridweave.sharing.roles import Role
from tests.integration.sharing.conftest import CITY, City, add_persona, audit_actions, outbox


def _dispute(city: City, attribute: str, persona: str = "res_x", **change: Any) -> Any:
    body = {"attribute": attribute, "reason": "号码已更换", **change}
    return city.client.post("/me/corrections", json=body, headers=city.headers(persona))


def _supplier(city: City, persona: str, attribute: str) -> str:
    """The department whose source supplied this value of the resident's record (/me/data)."""
    data = city.get(persona, "/me/data").json()
    return next(p["source"] for p in data["provenance"] if p["attribute"] == attribute)


def test_a_correction_goes_to_the_supplier_and_the_resident_sees_the_answer(city: City) -> None:
    source = _supplier(city, "res_x", "phone")
    assert source == "health_population"  # the synthetic city: X's phone came from health
    made = _dispute(city, "phone", proposed_value="13900001111")
    assert made.status_code == 201, made.text
    request = made.json()
    assert request["department"] == "health" and request["source"] == source
    assert request["status"] == "pending" and request["disputed_value"] == city.x.phone
    told = outbox(city, "CorrectionRequested")[-1]
    assert (told["kind"], told["to"]) == ("department", "health")
    assert city.x.phone not in str(told["payload"])  # messages carry no values
    again = _dispute(city, "phone")
    assert again.status_code == 409 and again.json()["code"] == "already_pending"

    # only the supplying department has it in its inbox, with the values through the gate
    assert city.get("police", "/corrections").json() == []
    inbox = city.get("health", "/corrections").json()
    item = next(i for i in inbox if i["id"] == request["id"])
    assert item["shown"] == "allow"
    assert item["disputed_value"] == city.x.phone and item["proposed_value"] == "13900001111"
    # the pending request opens that one value to that department, for that purpose only
    read = city.get("health", f"/people/{city.x.id}", purpose="data_correction").json()
    assert read["values"]["phone"] == city.x.phone
    assert "name" in read["masked"] and "citizen_id" in read["masked"]
    assert (
        "phone"
        in city.get("police", f"/people/{city.x.id}", purpose="data_correction").json()["masked"]
    )
    tracked = [a for a in city.get("res_x", "/me/accesses").json() if a["department"] == "health"]
    assert any(a["purpose"] == "data_correction" for a in tracked)

    wrong = city.client.post(
        f"/corrections/{request['id']}/accept",
        json={"corrected_value": "13900001111"},
        headers=city.headers("police"),
    )
    assert wrong.status_code == 404
    accepted = city.client.post(
        f"/corrections/{request['id']}/accept",
        json={"corrected_value": "13900001111", "note": "已在本系统更正"},
        headers=city.headers("health"),
    )
    assert accepted.status_code == 200, accepted.text
    mine = next(c for c in city.get("res_x", "/me/corrections").json() if c["id"] == request["id"])
    assert mine["status"] == "accepted"
    assert mine["corrected_value"] == "13900001111" and mine["answer"] == "已在本系统更正"
    assert outbox(city, "CorrectionAccepted")[-1]["to"] == str(city.x.id)
    # answered: the value is closed to that department's correction purpose again
    read = city.get("health", f"/people/{city.x.id}", purpose="data_correction").json()
    assert "phone" in read["masked"]
    twice = city.client.post(
        f"/corrections/{request['id']}/reject", json={"reason": "x"}, headers=city.headers("health")
    )
    assert twice.status_code == 409
    actions = {e["action"] for e in audit_actions(city, person_id=city.x.id)}
    assert {"correction.requested", "correction.accepted"} <= actions


def test_a_rejected_correction_says_why(city: City) -> None:
    made = _dispute(city, "name", proposed_value="王小明", reason="户口本上的名字不同")
    assert made.status_code == 201, made.text
    request = made.json()
    assert request["department"] == "public_security"
    rejected = city.client.post(
        f"/corrections/{request['id']}/reject",
        json={"reason": "与户籍登记一致，请携户口簿到派出所核实"},
        headers=city.headers("police"),
    )
    assert rejected.status_code == 200, rejected.text
    mine = next(c for c in city.get("res_x", "/me/corrections").json() if c["id"] == request["id"])
    assert mine["status"] == "rejected" and mine["answer"].startswith("与户籍登记一致")
    assert mine["corrected_value"] is None
    assert outbox(city, "CorrectionRejected")[-1]["payload"]["status"] == "rejected"
    assert city.get("police", "/corrections", status="rejected").json()[0]["id"] == request["id"]


def test_what_cannot_be_disputed_is_refused_clearly(city: City) -> None:
    data = city.get("res_y", "/me/data").json()
    sourced = {p["attribute"] for p in data["provenance"] if p["source"]}
    unsourced = next(a for a in ("death_date", "school", "allowance_amount") if a not in sourced)
    none = _dispute(city, unsourced, "res_y")
    assert (none.status_code, none.json()["code"]) == (409, "no_source")
    assert _dispute(city, "shoe_size").json()["code"] == "unknown_field"
    assert _dispute(city, "phone", reason="").status_code == 422
    assert _dispute(city, "phone", "police").status_code == 403
    assert city.get("res_x", "/corrections").status_code == 403
    english = city.client.post(
        "/me/corrections",
        json={"attribute": unsourced, "reason": "x"},
        headers=city.headers("res_y", **{"Accept-Language": "en"}),
    )
    assert "no value of" in english.json()["message"]


def _person_with_a_value_from(city: City, source: str) -> int:
    """A person at least one of whose golden values `source` supplied (by provenance)."""
    engine = city.client.app.state.engine  # type: ignore[attr-defined]
    with transaction(engine) as session:
        source_id = session.scalar(select(Source.id).where(Source.name == source))
        claimed = (
            select(SourceRecord.golden_id)
            .where(SourceRecord.source_id == source_id, SourceRecord.entity_type == "person")
            .limit(500)
        )
        for person in session.scalars(select(Person).where(Person.id.in_(claimed))):
            supplied = [int(v) for v in person.provenance.values()]
            from_source = select(func.count()).where(
                SourceRecord.id.in_(supplied), SourceRecord.source_id == source_id
            )
            if session.scalar(from_source):
                return person.id
    raise AssertionError(f"no person with a golden value from {source}")


def test_a_department_known_only_by_its_contract_answers_for_its_values(city: City) -> None:
    # the migrant-rental office supplies the migrant register; the gate knows no domain of its
    # own for it, but it joined the platform with its contract and so may have officers
    migrant = _person_with_a_value_from(city, "migrant_residents")
    resident = add_persona(city, "res_migrant", Role.resident, person_id=migrant)
    data = city.get(resident, "/me/data").json()
    attribute = next(
        p["attribute"] for p in data["provenance"] if p["source"] == "migrant_residents"
    )
    made = _dispute(city, attribute, persona=resident)
    assert made.status_code == 201, made.text
    assert made.json()["department"] == "migrant_rental"
    officer = add_persona(
        city, "rental_officer", Role.department_officer, department="migrant_rental", area=CITY
    )
    inbox = city.get(officer, "/corrections").json()
    assert [i["id"] for i in inbox] == [made.json()["id"]]
    rejected = city.client.post(
        f"/corrections/{made.json()['id']}/reject",
        json={"reason": "与登记一致"},
        headers=city.headers(officer),
    )
    assert rejected.status_code == 200, rejected.text
    # the resident's tracker names the office: its contract's name, its code in English
    zh = city.get(resident, "/me/accesses").json()
    en = city.client.get(
        "/me/accesses", headers=city.headers(resident, **{"Accept-Language": "en"})
    ).json()
    assert {a["department_label"] for a in zh if a["department"] == "migrant_rental"} == {
        "罗湖区流动人口和出租屋综合管理办公室"
    }
    assert {a["department_label"] for a in en if a["department"] == "migrant_rental"} == {
        "migrant rental"
    }


def test_a_department_known_only_by_its_contract_unmasks_with_its_own_purpose(
    city: City,
) -> None:
    migrant = _person_with_a_value_from(city, "migrant_residents")
    officer = add_persona(
        city, "registrar", Role.department_officer, department="migrant_rental", area=CITY
    )
    names = [p["code"] for p in city.get(officer, "/purposes").json()]
    assert "migrant_residence_registration" in names and "police_investigation" not in names
    masked = city.get(officer, f"/people/{migrant}").json()
    assert "citizen_id" in masked["masked"]
    read = city.get(officer, f"/people/{migrant}", purpose="migrant_residence_registration")
    assert read.status_code == 200, read.text
    body = read.json()
    assert "citizen_id" not in body["masked"] and "*" not in body["values"]["citizen_id"]
    assert len(body["values"]["citizen_id"]) == 18
    # another department may not name it
    other = city.get("health", f"/people/{migrant}", purpose="migrant_residence_registration")
    assert other.status_code == 403 and other.json()["code"] == "purpose_not_allowed"


def test_an_officer_of_a_department_no_contract_names_is_refused(city: City) -> None:
    engine = city.client.app.state.engine  # type: ignore[attr-defined]
    refused = pytest.raises(SharingError, match=r"unknown department 'weather'.*migrant_rental")
    with refused, transaction(engine) as session:
        identities.create_account(
            session,
            actor=identities.console_actor(Role.system_admin),
            trail=audit.Trail(),
            username="weather_officer",
            display_name="x",
            role=Role.department_officer,
            password=None,
            department="weather",
            area_code=CITY,
        )
