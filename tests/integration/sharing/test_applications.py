"""Applications for resources shared on approval, over HTTP on SQLite and PostgreSQL: civil
affairs asks human resources for insurance months; the gate honours the approved grant, and
denies again once it is refused, revoked or expired."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gridweave.cli import app as cli_app
from gridweave.core import clock
from gridweave.core.database import transaction
from gridweave.ingest.service import register_source
from gridweave.sharing.roles import Role
from tests.integration.sharing.conftest import CITY, City, add_persona, audit_actions, outbox

PURPOSE = "subsistence_allowance_review"


@pytest.fixture(scope="module")
def officers(city: City) -> City:
    """Officers of human resources (the provider) and education, beside the city's personas."""
    add_persona(
        city, "hr_officer", Role.department_officer, department="human_resources", area=CITY
    )
    add_persona(city, "edu_officer", Role.department_officer, department="education", area=CITY)
    return city


@pytest.fixture
def later() -> Iterator[Any]:
    """Move the clock forward by a timedelta (the sessions last 8 hours)."""
    start = clock.now()

    def move(by: timedelta) -> None:
        clock.set_now(lambda: start + by)

    yield move
    clock.set_now(None)


def _apply(city: City, persona: str = "civil", **change: Any) -> Any:
    body = {
        "resource": "hrss_insurance",
        "purpose": PURPOSE,
        "fields": ["insurance_months"],
        "reason": "核对低保申请家庭的社保缴费情况",
        "valid_until": (clock.now() + timedelta(days=30)).isoformat(),
        **change,
    }
    return city.client.post("/applications", json=body, headers=city.headers(persona))


def _post(city: City, persona: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return city.client.post(path, json=body or {}, headers=city.headers(persona))


def _insurance(city: City, persona: str = "civil", purpose: str | None = PURPOSE) -> str:
    """How the insurance months of person Y (who has them) reach this persona: value or denied."""
    params = {"purpose": purpose} if purpose else {}
    response = city.get(persona, f"/people/{city.y.id}", **params)
    assert response.status_code == 200, response.text
    body = response.json()
    if "insurance_months" in body["denied"]:
        return "denied"
    assert "insurance_months" in body["values"]
    return "shown"


def test_an_approved_application_is_a_grant_until_revoked(officers: City) -> None:
    city = officers
    assert _insurance(city) == "denied"  # another department's domain
    created = _apply(city)
    assert created.status_code == 201, created.text
    application = created.json()
    assert application["status"] == "pending"
    assert application["provider"] == "human_resources"
    assert application["fields"] == ["person.insurance_months"]
    assert _insurance(city) == "denied"  # pending is not approved
    # the requester cannot approve it; only the provider can
    assert _post(city, "civil", f"/applications/{application['id']}/approve").status_code == 403
    assert _post(city, "police", f"/applications/{application['id']}/approve").status_code == 404
    incoming = city.get("hr_officer", "/applications", status="pending").json()
    assert application["id"] in [a["id"] for a in incoming]

    approved = _post(
        city, "hr_officer", f"/applications/{application['id']}/approve", {"note": "同意"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == "hr_officer"
    assert _insurance(city) == "shown"
    # only with the purpose applied for, only to that department
    assert _insurance(city, purpose=None) == "denied"
    assert _insurance(city, "police", "police_investigation") == "denied"
    again = _post(city, "hr_officer", f"/applications/{application['id']}/approve")
    assert again.status_code == 409 and again.json()["code"] == "wrong_status"

    revoked = _post(
        city,
        "hr_officer",
        f"/applications/{application['id']}/revoke",
        {"reason": "核对工作已结束"},
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    assert _insurance(city) == "denied"

    actions = [e["action"] for e in audit_actions(city, action="application.submitted")]
    assert actions == ["application.submitted"]
    decided = audit_actions(city, actor="hr_officer")
    assert {"application.approved", "grant.revoked"} <= {e["action"] for e in decided}
    assert city.get("auditor", "/audit/verify").json()["ok"]
    # each step announced to the other side, with a schema version
    submitted = [m for m in outbox(city, "ApplicationSubmitted")]
    assert submitted[0]["to"] == "human_resources" and submitted[0]["kind"] == "department"
    assert submitted[0]["payload"]["schema_version"] == 1
    assert [m["to"] for m in outbox(city, "ApplicationApproved")] == ["civil_affairs"]
    assert outbox(city, "GrantRevoked")[0]["payload"]["note"] == "核对工作已结束"


def test_a_grant_expires(officers: City, later: Any) -> None:
    city = officers
    until = clock.now() + timedelta(hours=2)
    application = _apply(city, valid_until=until.isoformat()).json()
    # the provider may shorten the period, never lengthen it
    longer = (until + timedelta(days=1)).isoformat()
    refused = _post(
        city, "hr_officer", f"/applications/{application['id']}/approve", {"valid_until": longer}
    )
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_period"
    shorter = (clock.now() + timedelta(hours=1)).isoformat()
    approved = _post(
        city, "hr_officer", f"/applications/{application['id']}/approve", {"valid_until": shorter}
    )
    assert approved.status_code == 200, approved.text
    assert _insurance(city) == "shown"
    later(timedelta(minutes=59))
    assert _insurance(city) == "shown"
    later(timedelta(hours=1, seconds=1))
    assert _insurance(city) == "denied"
    shown = city.get("civil", f"/applications/{application['id']}").json()
    assert shown["status"] == "expired"
    assert application["id"] in [
        a["id"] for a in city.get("civil", "/applications", status="expired").json()
    ]
    # an expired grant cannot be revoked: there is nothing in force
    gone = _post(city, "hr_officer", f"/applications/{application['id']}/revoke", {"reason": "x"})
    assert gone.status_code == 409
    # back before its end it was in force, and revoking it then works
    later(timedelta(minutes=1))
    assert _insurance(city) == "shown"
    ended = _post(city, "hr_officer", f"/applications/{application['id']}/revoke", {"reason": "x"})
    assert ended.status_code == 200
    assert _insurance(city) == "denied"


def test_the_applicant_withdraws_an_application_or_gives_up_its_grant(officers: City) -> None:
    city = officers
    pending = _apply(city).json()
    # only the department that applied may withdraw; the provider refuses or revokes instead
    by_provider = _post(
        city, "hr_officer", f"/applications/{pending['id']}/withdraw", {"reason": "x"}
    )
    assert by_provider.status_code == 403 and by_provider.json()["code"] == "not_applicant"
    assert (
        _post(
            city, "police", f"/applications/{pending['id']}/withdraw", {"reason": "x"}
        ).status_code
        == 404
    )
    assert _post(city, "civil", f"/applications/{pending['id']}/withdraw", {}).status_code == 422
    withdrawn = _post(
        city, "civil", f"/applications/{pending['id']}/withdraw", {"reason": "申请有误，重新提交"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn" and withdrawn.json()["revoked_at"] is None
    # the provider sees why, and can no longer approve it
    told = outbox(city, "ApplicationWithdrawn")[-1]
    assert told["to"] == "human_resources"
    assert told["payload"]["reason"] == "申请有误，重新提交" and told["payload"]["was"] == "pending"
    late = _post(city, "hr_officer", f"/applications/{pending['id']}/approve")
    assert late.status_code == 409 and late.json()["code"] == "wrong_status"
    assert _insurance(city) == "denied"
    listed = city.get("hr_officer", "/applications", status="withdrawn").json()
    assert pending["id"] in [a["id"] for a in listed]

    # a grant in force, given up once the work is done: the gate denies at once
    granted = _apply(city).json()
    approve = f"/applications/{granted['id']}/approve"
    assert _post(city, "hr_officer", approve).status_code == 200
    assert _insurance(city) == "shown"
    given_up = _post(
        city, "civil", f"/applications/{granted['id']}/withdraw", {"reason": "核对已完成"}
    )
    assert given_up.status_code == 200, given_up.text
    assert given_up.json()["status"] == "withdrawn" and given_up.json()["revoked_at"] is not None
    assert _insurance(city) == "denied"
    assert outbox(city, "ApplicationWithdrawn")[-1]["payload"]["was"] == "approved"
    twice = _post(city, "civil", f"/applications/{granted['id']}/withdraw", {"reason": "x"})
    assert twice.status_code == 409
    assert (
        _post(
            city, "hr_officer", f"/applications/{granted['id']}/revoke", {"reason": "x"}
        ).status_code
        == 409
    )
    entries = audit_actions(city, action="application.withdrawn")
    assert [e["outcome"] for e in entries[-3:]] == ["deny", "ok", "ok"]
    assert entries[-1]["detail"]["reason"] == "核对已完成"
    assert city.get("auditor", "/audit/verify").json()["ok"]


def test_a_refused_application_grants_nothing_and_says_why(officers: City) -> None:
    city = officers
    application = _apply(city).json()
    no_reason = _post(city, "hr_officer", f"/applications/{application['id']}/refuse", {})
    assert no_reason.status_code == 422
    refused = _post(
        city,
        "hr_officer",
        f"/applications/{application['id']}/refuse",
        {"reason": "请通过核对平台申请"},
    )
    assert refused.status_code == 200
    seen = city.get("civil", f"/applications/{application['id']}").json()
    assert seen["status"] == "refused" and seen["decision_note"] == "请通过核对平台申请"
    assert _insurance(city) == "denied"
    assert outbox(city, "ApplicationRefused")[-1]["payload"]["note"] == "请通过核对平台申请"


def test_what_cannot_be_applied_for_is_refused_clearly(
    officers: City, city_dir: Path, tmp_path: Path
) -> None:
    city = officers
    # a resource its department does not share at all
    contract = (city_dir / "contracts" / "hrss_insurance.yaml").read_text(encoding="utf-8")
    closed = contract.replace("name: hrss_insurance", "name: hrss_closed").replace(
        "sharing: shared_on_approval", "sharing: not_shared"
    )
    (tmp_path / "hrss_closed.yaml").write_text(closed, encoding="utf-8")
    engine = city.client.app.state.engine  # type: ignore[attr-defined]
    with transaction(engine) as session:
        register_source(session, path=tmp_path / "hrss_closed.yaml")
    not_shared = _apply(city, resource="hrss_closed")
    assert not_shared.status_code == 400
    assert not_shared.json()["code"] == "not_shared"
    english = city.client.post(
        "/applications",
        json={
            "resource": "hrss_closed",
            "purpose": PURPOSE,
            "fields": ["insurance_months"],
            "reason": "x",
            "valid_until": (clock.now() + timedelta(days=1)).isoformat(),
        },
        headers=city.headers("civil", **{"Accept-Language": "en"}),
    )
    assert "hrss_closed is not shared" in english.json()["message"]

    cases = [
        ({"resource": "housing_buildings", "fields": ["building_code"]}, 400, "shared_freely"),
        ({"resource": "no_such_source"}, 404, "not_found"),
        ({"fields": ["allowance_amount"]}, 400, "unknown_field"),
        ({"purpose": "police_investigation"}, 403, "purpose_not_allowed"),
        ({"purpose": "no_such_purpose"}, 400, "unknown_purpose"),
        ({"valid_until": (clock.now() - timedelta(days=1)).isoformat()}, 400, "invalid_period"),
        ({"valid_until": (clock.now() + timedelta(days=400)).isoformat()}, 400, "invalid_period"),
        ({"valid_until": "2027-01-01T00:00:00"}, 422, "invalid_request"),  # no time zone
        ({"fields": []}, 422, "invalid_request"),
    ]
    for change, status, code in cases:
        response = _apply(city, **change)
        assert (response.status_code, response.json()["code"]) == (status, code), change
    unknown = _apply(city, fields=["insurance_months", "shoe_size"]).json()["message"]
    assert "shoe_size" in unknown
    # a purpose that does not reach the field; the own department's resource; not an officer
    health = _apply(city, "health", purpose="health_follow_up")
    assert health.json()["code"] == "purpose_does_not_cover"
    assert (
        _apply(city, "hr_officer", purpose="social_insurance_check").json()["code"]
        == "own_resource"
    )
    assert _apply(city, "gw_a").status_code == 403
    assert _apply(city, "res_x").status_code == 403


def test_a_steward_decides_at_the_console(officers: City) -> None:
    city = officers
    application = _apply(city).json()
    runner = CliRunner(env={"COLUMNS": "200"})
    base = ["--database-url", city.url, "applications"]
    listed = runner.invoke(cli_app, [*base, "list", "--status", "pending"])
    assert listed.exit_code == 0, listed.output
    assert "hrss_insurance" in listed.output
    wrong = runner.invoke(cli_app, [*base, "approve", str(application["id"]), "--as", "civil"])
    assert wrong.exit_code != 0  # civil affairs does not provide it
    done = runner.invoke(cli_app, [*base, "approve", str(application["id"]), "--as", "hr_officer"])
    assert done.exit_code == 0, done.output
    assert _insurance(city) == "shown"
    revoked = runner.invoke(
        cli_app, [*base, "revoke", str(application["id"]), "--as", "hr_officer", "--reason", "到期"]
    )
    assert revoked.exit_code == 0, revoked.output
    assert _insurance(city) == "denied"
    entries = audit_actions(city, action="grant.revoked")
    assert entries[-1]["actor_name"].startswith("hr_officer (console:")
    # the applicant withdraws its own at the console, never another department's
    mine = _apply(city).json()
    theirs = runner.invoke(
        cli_app, [*base, "withdraw", str(mine["id"]), "--as", "hr_officer", "--reason", "x"]
    )
    assert theirs.exit_code != 0
    withdrawn = runner.invoke(
        cli_app, [*base, "withdraw", str(mine["id"]), "--as", "civil", "--reason", "重复申请"]
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    assert city.get("civil", f"/applications/{mine['id']}").json()["status"] == "withdrawn"
    assert datetime.fromisoformat(entries[-1]["at"]) <= datetime.now(UTC) + timedelta(minutes=1)
