"""Accounts, passwords, lockout and tokens on SQLite and PostgreSQL, and `gridweave users`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, func, select, text
from typer.testing import CliRunner

from gridweave.areas.service import load_areas
from gridweave.cli import app
from gridweave.core import clock
from gridweave.core.database import session_factory, transaction
from gridweave.core.settings import Settings
from gridweave.registry.models import Person
from gridweave.sharing import audit, identities
from gridweave.sharing.errors import SharingError
from gridweave.sharing.models import Account, ApiToken, AuditEntry
from gridweave.sharing.roles import Role

PASSWORD = "correct horse battery staple"
TRAIL = audit.Trail()
SETTINGS = Settings()
SYSADMIN = identities.console_actor(Role.system_admin)
SECADMIN = identities.console_actor(Role.security_admin)
AREAS = [
    ("440300", "city", None),
    ("440303", "district", "440300"),
    ("440303001", "street", "440303"),
    ("440303001001", "community", "440303001"),
    ("440303001001001", "grid", "440303001001"),
]


@pytest.fixture
def db(engine: Engine, tmp_path: Path) -> Engine:
    """A database with a small area tree and one golden person (id 1)."""
    features = [
        {
            "type": "Feature",
            "geometry": None,
            "properties": {"code": c, "level": lv, "parent_code": p, "name": c},
        }
        for c, lv, p in AREAS
    ]
    path = tmp_path / "areas.geojson"
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features}))
    now = clock.now()
    with transaction(engine) as session:
        load_areas(session, path=path)
        session.add(
            Person(id=1, name="欧阳锋", provenance={}, sources=0, created_at=now, updated_at=now)
        )
    return engine


@pytest.fixture
def moving_clock() -> Iterator[list[datetime]]:
    """A clock the test moves by assigning now[0]."""
    now = [datetime(2026, 11, 2, 1, 30, tzinfo=UTC)]
    clock.set_now(lambda: now[0])
    yield now
    clock.set_now(None)


def _add(
    engine: Engine, username: str = "gw1", role: Role = Role.grid_worker, **kw: object
) -> Account:
    kw.setdefault("area_code", "440303001001001" if role == Role.grid_worker else None)
    with transaction(engine) as session:
        return identities.create_account(
            session,
            actor=SYSADMIN,
            trail=TRAIL,
            username=username,
            display_name=username,
            role=role,
            password=kw.pop("password", PASSWORD),
            **kw,  # type: ignore[arg-type]
        )


def _login(engine: Engine, username: str = "gw1", password: str = PASSWORD) -> str:
    with transaction(engine) as session:
        token, _ = identities.login(
            session, trail=TRAIL, settings=SETTINGS, username=username, password=password
        )
    return token


def _login_error(engine: Engine, username: str = "gw1", password: str = "wrong password!") -> str:
    """Try to sign in; the refusal's code (the refusal's audit entry commits, as in the API)."""
    with session_factory(engine)() as s:
        try:
            identities.login(
                s, trail=TRAIL, settings=SETTINGS, username=username, password=password
            )
        except SharingError as exc:
            s.commit()
            return exc.code
    raise AssertionError("login succeeded")


def _authenticate(engine: Engine, token: str) -> identities.Actor:
    with transaction(engine) as session:
        return identities.authenticate(session, settings=SETTINGS, token=token)


@pytest.mark.parametrize(
    ("role", "kw", "code"),
    [
        (Role.department_officer, {"area_code": "440300"}, "invalid_account"),  # no department
        (Role.grid_worker, {"area_code": "440303001", "department": None}, "invalid_account"),
        (
            Role.grid_worker,
            {"area_code": "440303001001001", "department": "health"},
            "invalid_account",
        ),
        (Role.department_officer, {"area_code": "440300", "department": "tax"}, "invalid_account"),
        (Role.street_officer, {"area_code": "999999999"}, "invalid_account"),
        (Role.resident, {}, "invalid_account"),  # not bound to a person
        (Role.resident, {"person_id": 42}, "invalid_account"),  # no such person
        (Role.auditor, {"area_code": "440300"}, "invalid_account"),
        (Role.city_officer, {"area_code": "440300", "password": "short"}, "weak_password"),
    ],
)
def test_accounts_are_refused_without_what_their_role_needs(
    db: Engine, role: Role, kw: dict[str, object], code: str
) -> None:
    with pytest.raises(SharingError) as caught:
        _add(db, "someone", role, **kw)
    assert caught.value.code == code


def test_a_valid_account_per_role(db: Engine) -> None:
    _add(db, "gw1")
    _add(db, "street", Role.street_officer, area_code="440303001")
    _add(db, "police", Role.department_officer, area_code="440300", department="public_security")
    _add(db, "resident", Role.resident, person_id=1)
    _add(db, "audit", Role.auditor)
    with transaction(db) as session:
        assert [a.username for a in identities.list_accounts(session)] == [
            "audit",
            "gw1",
            "police",
            "resident",
            "street",
        ]
        created = session.scalar(select(func.count()).where(AuditEntry.action == "account.created"))
    assert created == 5


def test_only_a_system_administrator_adds_or_disables_accounts(db: Engine) -> None:
    for role in (Role.security_admin, Role.auditor, Role.city_officer):
        with pytest.raises(SharingError, match="only a system_admin"), transaction(db) as session:
            identities.create_account(
                session,
                actor=identities.console_actor(role),
                trail=TRAIL,
                username="x1x",
                display_name="x",
                role=Role.auditor,
                password=PASSWORD,
            )
    _add(db)
    with pytest.raises(SharingError), transaction(db) as session:
        identities.disable_account(session, actor=SECADMIN, trail=TRAIL, username="gw1")


def test_passwords_are_stored_as_argon2_hashes(db: Engine) -> None:
    _add(db)
    with db.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM account")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_five_failures_lock_the_account_for_fifteen_minutes(
    db: Engine, moving_clock: list[datetime]
) -> None:
    _add(db)
    assert [_login_error(db) for _ in range(5)] == ["invalid_credentials"] * 5
    assert _login_error(db, password=PASSWORD) == "account_locked"  # even the right password
    moving_clock[0] += timedelta(minutes=14)
    assert _login_error(db, password=PASSWORD) == "account_locked"
    moving_clock[0] += timedelta(minutes=2)
    assert _authenticate(db, _login(db)).username == "gw1"
    with transaction(db) as session:
        failed = session.scalar(
            select(func.count()).where(AuditEntry.action == "auth.login_failed")
        )
        logins = session.scalar(select(func.count()).where(AuditEntry.action == "auth.login"))
    assert (failed, logins) == (7, 1)


def test_a_success_resets_the_failure_count(db: Engine) -> None:
    _add(db)
    for _ in range(4):
        _login_error(db)
    _login(db)
    for _ in range(4):
        assert _login_error(db) == "invalid_credentials"
    _login(db)


def test_an_unknown_user_gets_the_same_answer_and_is_audited(db: Engine) -> None:
    assert _login_error(db, username="nobody") == "invalid_credentials"
    with transaction(db) as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.login_failed"))
    assert entry is not None and entry.actor_name == "nobody" and entry.actor_role is None


def test_sessions_expire(db: Engine, moving_clock: list[datetime]) -> None:
    _add(db)
    token = _login(db)
    assert _authenticate(db, token).role == Role.grid_worker
    moving_clock[0] += timedelta(minutes=SETTINGS.session_minutes + 1)
    with pytest.raises(SharingError, match="expired"):
        _authenticate(db, token)


def test_tokens_are_kept_only_as_keyed_hashes(db: Engine) -> None:
    _add(db)
    token = _login(db)
    with db.connect() as conn:
        rows = [tuple(map(str, r)) for r in conn.execute(text("SELECT * FROM api_token")).all()]
    assert rows and not any(token in cell for row in rows for cell in row)
    assert any(identities.token_digest(SETTINGS.secret_key, token) in row for row in rows)
    other = Settings(secret_key="another secret entirely")
    with pytest.raises(SharingError), transaction(db) as session:
        identities.authenticate(session, settings=other, token=token)


def test_api_tokens_come_from_the_security_administrator_and_expire(
    db: Engine, moving_clock: list[datetime]
) -> None:
    _add(
        db,
        "edu_system",
        Role.department_officer,
        area_code="440300",
        department="education",
        password=None,
    )
    with pytest.raises(SharingError, match="only a security_admin"), transaction(db) as session:
        identities.issue_api_token(
            session, actor=SYSADMIN, trail=TRAIL, settings=SETTINGS, username="edu_system", name="x"
        )
    with transaction(db) as session:
        token, row = identities.issue_api_token(
            session,
            actor=SECADMIN,
            trail=TRAIL,
            settings=SETTINGS,
            username="edu_system",
            name="enrolment system",
            days=30,
        )
    assert row.kind == "api"
    assert _authenticate(db, token).department == "education"
    assert _login_error(db, username="edu_system", password="") == "invalid_credentials"
    moving_clock[0] += timedelta(days=31)
    with pytest.raises(SharingError, match="expired"):
        _authenticate(db, token)


def test_disabling_revokes_every_token(db: Engine) -> None:
    _add(db)
    token = _login(db)
    with transaction(db) as session:
        identities.disable_account(session, actor=SYSADMIN, trail=TRAIL, username="gw1")
    with pytest.raises(SharingError, match="revoked"):
        _authenticate(db, token)
    assert _login_error(db, password=PASSWORD) == "invalid_credentials"
    with transaction(db) as session:
        assert session.scalar(select(func.count()).where(ApiToken.revoked_at.is_(None))) == 0


def test_the_default_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="GRIDWEAVE_SECRET_KEY"):
        Settings(environment="production")
    assert Settings(environment="production", secret_key="s3cret-from-the-vault").secret_key


def _cli(engine: Engine, *args: str, input: str | None = None) -> object:
    url = engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(app, ["--database-url", url, *args], input=input)


def test_cli_users_add_list_disable_without_echoing_the_password(db: Engine) -> None:
    added = _cli(
        db,
        "users",
        "add",
        "gw_li",
        "--role",
        "grid_worker",
        "--area",
        "440303001001001",
        "--name",
        "李网格",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output  # type: ignore[attr-defined]
    prompted = _cli(
        db,
        "users",
        "add",
        "street_wu",
        "--role",
        "street_officer",
        "--area",
        "440303001",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert prompted.exit_code == 0, prompted.output  # type: ignore[attr-defined]
    assert PASSWORD not in added.output + prompted.output  # type: ignore[attr-defined]
    listed = _cli(db, "users", "list")
    assert "gw_li" in listed.output and "street_wu" in listed.output  # type: ignore[attr-defined]
    assert "$argon2" not in listed.output  # type: ignore[attr-defined]
    assert _cli(db, "users", "disable", "gw_li").exit_code == 0  # type: ignore[attr-defined]
    assert "disabled" in _cli(db, "users", "list").output  # type: ignore[attr-defined]
    assert _login_error(db, username="gw_li", password=PASSWORD) == "invalid_credentials"
    _login(db, "street_wu")


def test_cli_token_is_printed_once_and_works(db: Engine) -> None:
    _cli(
        db,
        "users",
        "add",
        "hr_system",
        "--role",
        "department_officer",
        "--department",
        "human_resources",
        "--area",
        "440300",
        "--no-password",
    )
    issued = _cli(db, "users", "token", "hr_system", "--name", "social insurance", "--days", "7")
    assert issued.exit_code == 0, issued.output  # type: ignore[attr-defined]
    token = issued.stdout.strip().splitlines()[0]  # type: ignore[attr-defined]
    assert _authenticate(db, token).department == "human_resources"


def _change(engine: Engine, token: str, current: str, new: str, username: str = "gw1") -> str | int:
    """Change gw1's password in a session signed in with `token`: sessions ended, or the
    refusal's code (a refusal's audit entry commits, as in the API)."""
    actor = _authenticate(engine, token)
    with session_factory(engine)() as s:
        try:
            ended = identities.change_password(
                s,
                actor=actor,
                trail=TRAIL,
                settings=SETTINGS,
                token=token,
                current=current,
                new=new,
            )
        except SharingError as exc:
            s.commit()
            return exc.code
        s.commit()
    return ended


def test_a_password_change_ends_the_other_sessions_but_not_this_one(db: Engine) -> None:
    _add(db)
    here, elsewhere = _login(db), _login(db)
    new = "a new and longer passphrase"
    assert _change(db, here, PASSWORD, new) == 1
    assert _authenticate(db, here).username == "gw1"
    with pytest.raises(SharingError, match="revoked"):
        _authenticate(db, elsewhere)
    assert _login_error(db, password=PASSWORD) == "invalid_credentials"
    _login(db, password=new)
    with transaction(db) as session:
        entry = session.scalar(
            select(AuditEntry).where(AuditEntry.action == "account.password_changed")
        )
    assert entry is not None and entry.outcome == "ok" and entry.detail == {"sessions_ended": 1}


def test_a_password_change_needs_the_current_one_and_a_strong_new_one(
    db: Engine, moving_clock: list[datetime]
) -> None:
    _add(db)
    token = _login(db)
    assert _change(db, token, PASSWORD, "short") == "weak_password"
    assert _change(db, token, PASSWORD, PASSWORD) == "weak_password"
    # a wrong current password counts towards the lockout, like a failed sign-in
    wrong = [_change(db, token, "not my password", "a new and longer passphrase") for _ in range(5)]
    assert wrong == ["invalid_credentials"] * 5
    assert _login_error(db, password=PASSWORD) == "account_locked"
    assert _change(db, token, PASSWORD, "a new and longer passphrase") == "account_locked"
    with transaction(db) as session:
        failed = session.scalars(
            select(AuditEntry.outcome).where(AuditEntry.action == "account.password_changed")
        ).all()
    assert failed == ["fail"] * 5


def test_an_account_without_a_password_has_none_to_change(db: Engine) -> None:
    _add(
        db,
        "hr_system",
        Role.department_officer,
        department="human_resources",
        area_code="440300",
        password=None,
    )
    with transaction(db) as session:
        token, _ = identities.issue_api_token(
            session,
            actor=SECADMIN,
            trail=TRAIL,
            settings=SETTINGS,
            username="hr_system",
            name="insurance",
        )
    assert _change(db, token, "anything at all", "a new and longer passphrase") == "no_password"


def test_cli_password_reset_lifts_the_lockout_and_ends_every_session(db: Engine) -> None:
    _add(db)
    token = _login(db)
    for _ in range(5):
        _login_error(db)
    assert _login_error(db, password=PASSWORD) == "account_locked"
    new = "a new and longer passphrase"
    reset = _cli(db, "users", "password", "gw1", "--password-stdin", input=new + "\n")
    assert reset.exit_code == 0, reset.output  # type: ignore[attr-defined]
    assert "1 session(s) ended" in reset.output  # type: ignore[attr-defined]
    assert new not in reset.output  # type: ignore[attr-defined]
    with pytest.raises(SharingError, match="revoked"):
        _authenticate(db, token)
    _login(db, password=new)
    with pytest.raises(SharingError, match="security_admin"), transaction(db) as session:
        identities.reset_password(
            session, actor=SYSADMIN, trail=TRAIL, username="gw1", password=new
        )
