"""Consent over HTTP on SQLite and PostgreSQL: health follow-up needs the person's consent; the
person (or a child's guardian) grants, refuses or revokes it; the gate honours it only while in
force, and a single use is spent once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from gridweave.cli import app as cli_app
from gridweave.core import clock
from gridweave.core.database import transaction
from gridweave.registry.models import Person
from gridweave.sharing import consents
from gridweave.sharing.consents import age_on
from gridweave.sharing.roles import Role
from gridweave.worker import WorkerRunning, sole_worker
from tests.integration.sharing.conftest import City, add_persona, audit_actions, outbox

FOLLOW_UP = "health_follow_up"


@pytest.fixture
def later() -> Iterator[Any]:
    start = clock.now()

    def move(by: timedelta) -> None:
        clock.set_now(lambda: start + by)

    yield move
    clock.set_now(None)


def _ask(city: City, person_id: int, persona: str = "health", **change: Any) -> Any:
    body = {
        "person_id": person_id,
        "purpose": FOLLOW_UP,
        "fields": ["phone", "name"],
        "reason": "高血压患者季度随访",
        "valid_until": (clock.now() + timedelta(days=90)).isoformat(),
        "single_use": False,
        **change,
    }
    return city.client.post("/consents", json=body, headers=city.headers(persona))


def _answer(city: City, persona: str, consent_id: int, what: str) -> Any:
    return city.client.post(f"/me/consents/{consent_id}/{what}", headers=city.headers(persona))


def _phone(city: City, person_id: int) -> str:
    """How health sees a person's phone for follow-up: whole, masked (or withheld)."""
    response = city.get("health", f"/people/{person_id}", purpose=FOLLOW_UP)
    assert response.status_code == 200, response.text
    body = response.json()
    if "phone" in body["masked"]:
        return "masked"
    return "whole" if "phone" in body["values"] else "withheld"


def test_follow_up_needs_consent_granted_and_not_revoked(city: City) -> None:
    x = city.x
    assert _phone(city, x.id) == "masked"
    asked = _ask(city, x.id)
    assert asked.status_code == 201, asked.text
    consent = asked.json()
    assert consent["status"] == "pending" and not consent["by_guardian"]
    # the person is told through the outbox, and sees it in their account
    told = [
        m for m in outbox(city, "ConsentRequested") if m["payload"]["consent_id"] == consent["id"]
    ]
    assert [(m["kind"], m["to"]) for m in told] == [("person", str(x.id))]
    assert told[0]["payload"]["schema_version"] == 1
    mine = city.get("res_x", "/me/consents").json()
    assert [c["id"] for c in mine] == [consent["id"]]
    assert mine[0]["purpose_label"] == "健康随访服务"
    assert not city.get("res_y", "/me/consents").json()
    assert _phone(city, x.id) == "masked"  # pending is not granted

    assert _answer(city, "res_y", consent["id"], "grant").status_code == 404  # not theirs
    assert _answer(city, "health", consent["id"], "grant").status_code == 403  # not a resident
    granted = _answer(city, "res_x", consent["id"], "grant")
    assert granted.status_code == 200, granted.text
    assert granted.json()["status"] == "granted"
    assert _phone(city, x.id) == "whole"
    read = city.get("health", f"/people/{x.id}", purpose=FOLLOW_UP).json()
    assert read["values"]["phone"] == x.phone and read["values"]["name"] == x.name
    assert "citizen_id" in read["masked"]  # not consented to
    assert _phone(city, city.y.id) == "masked"  # someone else's consent is not theirs
    # the read is in the person's tracker, naming the purpose
    tracked = [a for a in city.get("res_x", "/me/accesses").json() if a["purpose"] == FOLLOW_UP]
    assert tracked and "phone" in tracked[0]["fields"]
    again = _answer(city, "res_x", consent["id"], "grant")
    assert again.status_code == 409 and again.json()["code"] == "wrong_status"

    revoked = _answer(city, "res_x", consent["id"], "revoke")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert _phone(city, x.id) == "masked"
    events = [m["payload"]["status"] for m in outbox(city, "ConsentRevoked")]
    assert events[-1] == "revoked"
    assert outbox(city, "ConsentGranted")[-1]["to"] == "health"
    actions = [e["action"] for e in audit_actions(city, person_id=x.id)]
    for action in ("consent.requested", "consent.granted", "consent.revoked"):
        assert action in actions
    assert city.get("auditor", "/audit/verify").json()["ok"]


def test_a_refused_request_unlocks_nothing(city: City) -> None:
    consent = _ask(city, city.x.id).json()
    assert _answer(city, "res_x", consent["id"], "refuse").json()["status"] == "refused"
    assert _phone(city, city.x.id) == "masked"
    assert _answer(city, "res_x", consent["id"], "grant").status_code == 409
    assert outbox(city, "ConsentRefused")[-1]["payload"]["consent_id"] == consent["id"]


def test_a_single_use_is_spent_by_one_read(city: City) -> None:
    consent = _ask(city, city.x.id, single_use=True).json()
    _answer(city, "res_x", consent["id"], "grant")
    assert _phone(city, city.x.id) == "whole"
    assert _phone(city, city.x.id) == "masked"
    seen = next(c for c in city.get("health", "/consents").json() if c["id"] == consent["id"])
    assert seen["status"] == "spent" and seen["uses"] == 1
    used = [e for e in audit_actions(city, person_id=city.x.id, action="person.read")]
    assert any((e["detail"] or {}).get("consents") == [consent["id"]] for e in used)
    assert _answer(city, "res_x", consent["id"], "revoke").status_code == 409


def test_concurrent_reads_spend_a_single_use_once(city: City) -> None:
    consent = _ask(city, city.x.id, single_use=True).json()
    _answer(city, "res_x", consent["id"], "grant")
    with ThreadPoolExecutor(max_workers=6) as pool:
        seen = list(pool.map(lambda _: _phone(city, city.x.id), range(6)))
    assert sorted(seen) == ["masked"] * 5 + ["whole"]
    mine = next(c for c in city.get("health", "/consents").json() if c["id"] == consent["id"])
    assert mine["uses"] == 1


def test_a_consent_expires(city: City, later: Any) -> None:
    until = clock.now() + timedelta(hours=2)
    consent = _ask(city, city.x.id, valid_until=until.isoformat()).json()
    later(timedelta(minutes=1))
    _answer(city, "res_x", consent["id"], "grant")
    assert _phone(city, city.x.id) == "whole"
    later(timedelta(hours=2, seconds=1))
    assert _phone(city, city.x.id) == "masked"
    assert city.get("res_x", "/me/consents").json()[0]["status"] == "expired"
    later(timedelta(minutes=2))  # still in force: end it so later tests start clean
    assert _answer(city, "res_x", consent["id"], "revoke").status_code == 200


def _child_with_guardians(city: City) -> tuple[int, list[int]]:
    """A child under 14 in the hukou register, and the adults the register makes its guardians."""
    engine = city.client.app.state.engine  # type: ignore[attr-defined]
    today = clock.now().date()
    with transaction(engine) as session:
        children = session.scalars(
            select(Person)
            .where(
                Person.relation_to_head == "child", Person.birth_date > date(today.year - 14, 1, 1)
            )
            .order_by(Person.id)
        ).all()
        for child in children:
            assert child.birth_date is not None
            if age_on(child.birth_date, today) >= 14:
                continue
            parents = session.scalars(
                select(Person.id).where(
                    Person.household_number == child.household_number,
                    Person.relation_to_head.in_(["head", "spouse"]),
                )
            ).all()
            if parents:
                return child.id, sorted(parents)
    raise AssertionError("the synthetic city has no child with a registered parent")


def test_a_guardian_decides_for_a_child_under_14(city: City) -> None:
    child, parents = _child_with_guardians(city)
    add_persona(city, "child_c", Role.resident, person_id=child)
    add_persona(city, "parent_p", Role.resident, person_id=parents[0])
    asked = _ask(city, child)
    assert asked.status_code == 201, asked.text
    consent = asked.json()
    assert consent["by_guardian"]
    told = [
        m["to"]
        for m in outbox(city, "ConsentRequested")
        if m["payload"]["consent_id"] == consent["id"]
    ]
    assert told == [str(p) for p in parents]  # every guardian, not the child
    # the child sees the request about them, but may not answer it
    assert [c["id"] for c in city.get("child_c", "/me/consents").json()] == [consent["id"]]
    assert _answer(city, "child_c", consent["id"], "grant").status_code == 404
    granted = _answer(city, "parent_p", consent["id"], "grant")
    assert granted.status_code == 200, granted.text
    assert _phone(city, child) in ("whole", "withheld")  # a child may have no phone of its own
    name = city.get("health", f"/people/{child}", purpose=FOLLOW_UP).json()
    assert "name" not in name["masked"]
    entry = audit_actions(city, person_id=child, action="consent.granted")[-1]
    assert entry["actor_name"] == "parent_p" and entry["detail"]["by_guardian"]


def test_what_cannot_be_asked_is_refused_clearly(city: City) -> None:
    engine = city.client.app.state.engine  # type: ignore[attr-defined]
    with transaction(engine) as session:
        # a migrant child: not in the hukou register, so no guardian is known
        orphan = session.scalar(
            select(Person.id)
            .where(Person.relation_to_head.is_(None), Person.birth_date > date(2014, 1, 1))
            .order_by(Person.id)
        )
    if orphan is not None:
        refused = _ask(city, orphan)
        assert (refused.status_code, refused.json()["code"]) == (409, "no_guardian")
    cases = [
        ({"purpose": "police_investigation"}, 400, "unknown_purpose"),
        ({"fields": ["school"]}, 400, "purpose_does_not_cover"),
        ({"fields": ["shoe_size"]}, 400, "unknown_field"),
        ({"valid_until": (clock.now() - timedelta(days=1)).isoformat()}, 400, "invalid_period"),
    ]
    for change, status, code in cases:
        response = _ask(city, city.x.id, **change)
        assert (response.status_code, response.json()["code"]) == (status, code), change
    assert _ask(city, 999_999_999).json()["code"] == "not_found"
    police = _ask(city, city.x.id, "police", purpose="police_investigation")
    assert police.json()["code"] == "consent_not_needed"
    assert _ask(city, city.x.id, "gw_a").status_code == 403
    assert city.get("police", "/me/consents").status_code == 403
    # the department sees only its own requests
    assert all(c["department"] == "health" for c in city.get("health", "/consents").json())
    assert city.get("police", "/consents").json() == []
    assert city.get("res_x", "/consents").status_code == 403
    assert city.get("res_x", "/applications").status_code == 403


def test_the_department_withdraws_a_request_or_gives_up_a_consent(city: City) -> None:
    y = city.y
    pending = _ask(city, y.id).json()
    path = f"/consents/{pending['id']}/withdraw"
    # another department's request is not found; a resident is not a department
    other = city.client.post(path, json={"reason": "x"}, headers=city.headers("police"))
    assert other.status_code == 404
    resident = city.client.post(path, json={"reason": "x"}, headers=city.headers("res_y"))
    assert resident.status_code == 403
    withdrawn = city.client.post(
        path, json={"reason": "随访对象有误"}, headers=city.headers("health")
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    # the person is told why, sees it withdrawn, and can no longer grant it
    told = outbox(city, "ConsentWithdrawn")[-1]
    assert (told["kind"], told["to"]) == ("person", str(y.id))
    assert told["payload"]["reason"] == "随访对象有误" and told["payload"]["was"] == "pending"
    mine = {c["id"]: c["status"] for c in city.get("res_y", "/me/consents").json()}
    assert mine[pending["id"]] == "withdrawn"
    late = _answer(city, "res_y", pending["id"], "grant")
    assert late.status_code == 409 and late.json()["code"] == "wrong_status"
    listed = city.get("health", "/consents", status="withdrawn").json()
    assert pending["id"] in [c["id"] for c in listed]

    # a granted consent given up once the follow-up is done: unlocks nothing from then on
    granted = _ask(city, y.id).json()
    assert _answer(city, "res_y", granted["id"], "grant").status_code == 200
    assert _phone(city, y.id) == "whole"
    given_up = city.client.post(
        f"/consents/{granted['id']}/withdraw",
        json={"reason": "随访已结束"},
        headers=city.headers("health"),
    )
    assert given_up.status_code == 200, given_up.text
    assert given_up.json()["revoked_at"] is not None
    assert _phone(city, y.id) == "masked"
    assert outbox(city, "ConsentWithdrawn")[-1]["payload"]["was"] == "granted"
    assert _answer(city, "res_y", granted["id"], "revoke").status_code == 409
    entries = audit_actions(city, action="consent.withdrawn", person_id=y.id)
    assert [e["detail"]["reason"] for e in entries[-2:]] == ["随访对象有误", "随访已结束"]
    assert city.get("auditor", "/audit/verify").json()["ok"]


def _child_turning_14_within_a_year(city: City) -> tuple[int, int, date]:
    """A 13-year-old registered as the head's child, a parent of theirs, and their birth date."""
    engine = city.client.app.state.engine  # type: ignore[attr-defined]
    now = clock.now().date()
    day = now.replace(day=min(now.day, 28))  # a year ago has the same day (no 29 February)
    with transaction(engine) as session:
        children = session.execute(
            select(Person.id, Person.household_number, Person.birth_date)
            .where(
                Person.relation_to_head == "child",
                Person.birth_date > day.replace(year=day.year - 14) + timedelta(days=30),
                Person.birth_date <= day.replace(year=day.year - 13),
            )
            .order_by(Person.id)
        ).all()
        for child, household, born in children:
            if (born.month, born.day) == (2, 29):
                continue  # their birthday is not every year
            parent = session.scalar(
                select(Person.id).where(
                    Person.household_number == household,
                    Person.relation_to_head.in_(["head", "spouse"]),
                )
            )
            if parent is not None:
                return child, parent, born
    raise AssertionError("the synthetic city has no 13-year-old with a registered parent")


def test_a_child_who_turns_14_answers_for_themself_from_then_on(city: City, later: Any) -> None:
    child, parent, born = _child_turning_14_within_a_year(city)
    birthday = born.replace(year=born.year + 14)
    until = (clock.now() + timedelta(days=360)).isoformat()  # past the birthday
    pending = _ask(city, child, valid_until=until).json()
    granted = _ask(city, child, valid_until=until).json()
    assert pending["by_guardian"] and granted["by_guardian"]
    add_persona(city, "parent_13", Role.resident, person_id=parent)
    assert _answer(city, "parent_13", granted["id"], "grant").status_code == 200

    # the day after the 14th birthday (local time): new sign-ins, the old sessions have ended
    days = (birthday - clock.now().date()).days + 1
    later(timedelta(days=days))
    assert age_on(born, clock.now().date()) == 14
    add_persona(city, "parent_14", Role.resident, person_id=parent)
    add_persona(city, "child_14", Role.resident, person_id=child)
    too_late = _answer(city, "parent_14", pending["id"], "grant")
    assert too_late.status_code == 409 and too_late.json()["code"] == "now_of_age"
    # the refusal handed the request over, and the child is asked through the outbox
    asked = [
        m for m in outbox(city, "ConsentRequested") if m["payload"]["consent_id"] == pending["id"]
    ]
    assert asked[-1]["to"] == str(child) and asked[-1]["payload"]["now_of_age"]
    assert _answer(city, "child_14", pending["id"], "refuse").status_code == 200
    # a consent their guardian gave is now theirs to revoke, and no longer the guardian's
    assert _answer(city, "parent_14", granted["id"], "revoke").status_code == 409
    revoked = _answer(city, "child_14", granted["id"], "revoke")
    assert revoked.status_code == 200, revoked.text
    auditor = add_persona(city, "auditor_14", Role.auditor)
    entries = city.get(auditor, "/audit", person_id=child, action="consent.granted").json()
    assert entries[-1]["outcome"] == "deny" and entries[-1]["detail"]["reason"] == "now_of_age"


def test_the_daily_sweep_hands_a_request_to_a_child_on_turning_14(city: City, later: Any) -> None:
    from typer.testing import CliRunner

    from gridweave.cli import app as cli_app

    child, parent, born = _child_turning_14_within_a_year(city)
    until = (clock.now() + timedelta(days=360)).isoformat()
    pending = _ask(city, child, valid_until=until).json()
    sweep = ["--database-url", city.url, "consents", "hand-over"]
    early = CliRunner().invoke(cli_app, sweep)
    assert early.exit_code == 0 and "handed over: 0" in early.output  # still 13

    later(timedelta(days=(born.replace(year=born.year + 14) - clock.now().date()).days))
    swept = CliRunner().invoke(cli_app, sweep)
    assert swept.exit_code == 0, swept.output
    assert "handed over: 1" in swept.output
    asked = [
        m for m in outbox(city, "ConsentRequested") if m["payload"]["consent_id"] == pending["id"]
    ]
    assert asked[-1]["to"] == str(child) and asked[-1]["payload"]["now_of_age"]
    again = CliRunner().invoke(cli_app, sweep)
    assert "handed over: 0" in again.output  # once
    parent_now = add_persona(city, "parent_sweep", Role.resident, person_id=parent)
    late = _answer(city, parent_now, pending["id"], "grant")
    assert late.status_code == 409 and late.json()["code"] == "now_of_age"
    child_now = add_persona(city, "child_sweep", Role.resident, person_id=child)
    mine = city.get(child_now, "/me/consents").json()
    assert mine[0]["id"] == pending["id"] and mine[0]["status"] == "pending"
    assert _answer(city, child_now, pending["id"], "grant").status_code == 200
    auditor = add_persona(city, "auditor_sweep", Role.auditor)
    handed = city.get(auditor, "/audit", person_id=child, action="consent.handed_over").json()
    assert handed[-1]["actor_name"].startswith("console:")
    assert handed[-1]["detail"]["consent_id"] == pending["id"]


def test_the_worker_dispatches_and_hands_over_on_the_day(
    city: City, later: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gridweave worker` runs the daily hand-over without cron: at start, then once each new
    local day; and sends what the outbox holds every few seconds."""
    from gridweave.worker import Worker

    child, _, born = _child_turning_14_within_a_year(city)
    until = (clock.now() + timedelta(days=360)).isoformat()
    pending = _ask(city, child, valid_until=until).json()
    said: list[str] = []
    worker = Worker(
        city.client.app.state.engine, city.settings, dispatch_every=5, report=said.append
    )  # type: ignore[attr-defined]

    assert worker.tick(100.0) == 105.0
    assert said[0].startswith("consent hand-over: 0 request(s)")  # still 13
    assert said[1].startswith("messages: sent ")
    asked = [
        m for m in outbox(city, "ConsentRequested") if m["payload"]["consent_id"] == pending["id"]
    ]
    assert asked and {m["status"] for m in asked} == {"sent"}  # to the guardians
    assert worker.tick(101.0) == 105.0 and len(said) == 2  # same day, outbox not due: nothing

    later(timedelta(days=(born.replace(year=born.year + 14) - clock.now().date()).days))
    with monkeypatch.context() as patched:
        patched.setattr(consents, "hand_over_due", _broken)
        worker.tick(102.0)
    assert said[2].startswith("consent hand-over failed, tried again on the next tick")
    worker.tick(103.0)  # the same day, tried again
    assert said[3].startswith("consent hand-over: 1 request(s)")
    worker.tick(104.0)
    assert len(said) == 4  # handed over once a day
    worker.tick(105.0)
    assert said[4].startswith("messages: sent ")  # among them the request to the child
    asked = [
        m for m in outbox(city, "ConsentRequested") if m["payload"]["consent_id"] == pending["id"]
    ]
    assert asked[-1]["to"] == str(child) and asked[-1]["status"] == "sent"


def _broken(*_: Any, **__: Any) -> int:
    raise ConnectionError("the database is restarting")


def test_the_worker_command_stops_on_sigterm_and_is_the_only_one(city: City) -> None:
    import signal
    import subprocess
    import sys
    import threading

    process = subprocess.Popen(
        [sys.executable, "-m", "gridweave", "--database-url", city.url, "worker",
         "--dispatch-every", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    watchdog = threading.Timer(120, process.kill)  # a worker that never reports fails, not hangs
    watchdog.start()
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "consent hand-over:" in line or "consent hand-over failed" in line:
            break
    second = CliRunner().invoke(cli_app, ["--database-url", city.url, "worker"])
    assert isinstance(second.exception, WorkerRunning), second.output  # exits 2, says why
    assert "another gridweave worker is running on this database" in str(second.exception)
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=30)
    watchdog.cancel()
    output = "".join(lines) + rest
    assert process.returncode == 0, output
    assert "consent hand-over: " in output
    assert "worker started: outbox every 0.2 s" in output and "worker stopped" in output


def test_one_worker_holds_the_database_until_it_stops(engine: Engine) -> None:
    with (
        sole_worker(engine),
        pytest.raises(WorkerRunning, match="another gridweave worker is running"),
        sole_worker(engine),
    ):
        pass
    with sole_worker(engine):  # released when the first stopped
        pass


def test_the_worker_refuses_to_start_with_a_sender_set_up_wrongly(city: City) -> None:
    from gridweave.core.errors import GridweaveError

    result = CliRunner().invoke(
        cli_app,
        ["--database-url", city.url, "worker"],
        env={"GRIDWEAVE_MESSAGE_SENDER": "pigeon"},
    )
    assert isinstance(result.exception, GridweaveError)  # `gridweave` prints it and exits 2
    assert "unknown message sender 'pigeon'" in str(result.exception)
