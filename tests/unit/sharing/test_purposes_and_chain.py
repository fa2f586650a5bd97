"""The purposes file, and the audit chain's pure parts: canonical JSON and the two hashes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridweave.registry.attributes import ATTRIBUTES
from gridweave.sharing.audit import GENESIS, canonical, digest
from gridweave.sharing.purposes import (
    PURPOSES_FILE,
    PurposesError,
    allowed_purposes,
    parse_purposes,
    purposes,
    purposes_file,
    use_purposes_file,
)
from gridweave.sharing.roles import ADMIN_ROLES, Department, Role

EVERY_FIELD = {name for attrs in ATTRIBUTES.values() for name in attrs}


def test_every_purpose_names_real_roles_departments_and_fields() -> None:
    for p in purposes().values():
        assert p.roles and not (p.roles & ADMIN_ROLES) and Role.resident not in p.roles
        assert p.fields is None or p.fields <= EVERY_FIELD, p.code
        assert p.zh and p.en
        if p.confidential:
            assert p.release_after_days > 0


def test_police_investigation_is_confidential_for_180_days_and_police_only() -> None:
    p = purposes()["police_investigation"]
    assert p.confidential and p.release_after_days == 180
    assert p.permits(Role.department_officer, Department.public_security)
    assert not p.permits(Role.department_officer, Department.health)
    assert not p.permits(Role.grid_worker, None)


def test_every_staff_role_has_a_purpose_and_admins_none() -> None:
    for role in Role:
        department = Department.health if role == Role.department_officer else None
        found = allowed_purposes(role, department)
        assert (not found) == (role in ADMIN_ROLES or role == Role.resident), role


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "purposes:\n  x: {zh: 甲, en: x, roles: [mayor]}\n",
            r"purpose 'x': roles\.0: .*grid_worker",
        ),
        (
            "purposes:\n  x: {zh: 甲, en: x, roles: [grid_worker], fields: [name, shoe_size]}\n",
            r"purpose 'x': unknown fields shoe_size: not an attribute of any record",
        ),
        (
            "purposes:\n  x: {zh: 甲, en: x, roles: [department_officer],"
            " departments: [Tax Office]}\n",
            r"purpose 'x': Tax Office is not a department code",
        ),
        (
            "purposes:\n  x: {zh: 甲, en: x, roles: [grid_worker], departments: [tax]}\n",
            r"purpose 'x': `departments` limits department officers, but its roles have none",
        ),
        ("purposes:\n  x: {zh: 甲, en: x, roles: []}\n", r"purpose 'x': roles: "),
        ("purposes:\n  X-1: {zh: 甲, en: x, roles: [grid_worker]}\n", r"purpose 'X-1': a code is"),
        ("purposes:\n  x: {zh: 甲, en: x, roles: [grid_worker], colour: red}\n", r"colour"),
        ("purposes:\n  x: {zh: 甲, en: x\n", r"city\.yaml: not valid YAML at line 3"),
        ("purpose:\n  x: {}\n", r"city\.yaml: no purposes"),
        ("", r"city\.yaml: no purposes"),
    ],
)
def test_a_mistake_in_a_purposes_file_is_refused_naming_the_purpose(
    text: str, message: str
) -> None:
    with pytest.raises(PurposesError, match=message):
        parse_purposes(text, "city.yaml")


def test_a_city_uses_its_own_purposes_file_and_a_broken_one_changes_nothing(
    tmp_path: Path,
) -> None:
    own = tmp_path / "purposes.yaml"
    own.write_text(
        "purposes:\n  tax_verification:\n    zh: 涉税信息核查\n    en: tax verification\n"
        "    roles: [department_officer]\n    departments: [tax]\n    fields: [name, citizen_id]\n",
        encoding="utf-8",
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("purposes:\n  x: {zh: 甲, en: x, roles: [mayor]}\n", encoding="utf-8")
    try:
        use_purposes_file(own)
        assert purposes_file() == own
        assert list(purposes()) == ["tax_verification"]
        assert [p.code for p in allowed_purposes(Role.department_officer, "tax")] == [
            "tax_verification"
        ]
        assert not allowed_purposes(Role.department_officer, Department.health)
        with pytest.raises(PurposesError, match=r"broken\.yaml: purpose 'x'"):
            use_purposes_file(broken)
        assert list(purposes()) == ["tax_verification"]  # still the last good one
        with pytest.raises(PurposesError, match="cannot read the purposes file"):
            use_purposes_file(tmp_path / "missing.yaml")
    finally:
        use_purposes_file(None)
    assert purposes_file() == PURPOSES_FILE and "police_investigation" in purposes()


def test_canonical_json_is_sorted_compact_utf8_with_utc_times() -> None:
    at = datetime(2026, 11, 2, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    text = canonical({"b": "张三", "a": at, "c": None, "d": {"y": 1, "x": 2}})
    assert (
        text == '{"a":"2026-11-02T01:30:00.000000Z","b":"张三","c":null,"d":{"x":2,"y":1}}'.encode()
    )


TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=5)  # no lone surrogates


@given(st.dictionaries(TEXT, st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1), TEXT)))
def test_canonical_json_does_not_depend_on_key_order(content: dict[str, object]) -> None:
    assert canonical(dict(reversed(list(content.items())))) == canonical(content)


def test_digest_is_the_hash_of_previous_hash_newline_payload() -> None:
    payload = b'{"a":1}'
    assert (
        digest("sha256", GENESIS, payload)
        == hashlib.sha256(GENESIS.encode() + b"\n" + payload).hexdigest()
    )
    from cryptography.hazmat.primitives import hashes

    h = hashes.Hash(hashes.SM3())
    h.update(b"a\nbc")
    assert digest("sm3", "a", b"bc") == h.finalize().hex()


def test_sm3_matches_the_standard_test_vector() -> None:  # GB/T 32905: SM3("abc")
    from cryptography.hazmat.primitives import hashes

    h = hashes.Hash(hashes.SM3())
    h.update(b"abc")
    assert h.finalize().hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_an_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="sha256 or sm3"):
        digest("md5", GENESIS, b"{}")


def test_any_change_to_content_or_link_changes_the_hash() -> None:
    base = canonical({"action": "person.read", "at": datetime(2026, 1, 1, tzinfo=UTC)})
    edited = canonical({"action": "person.read", "at": datetime(2026, 1, 2, tzinfo=UTC)})
    assert digest("sha256", GENESIS, base) != digest("sha256", GENESIS, edited)
    assert digest("sha256", GENESIS, base) != digest("sha256", "1" * 64, base)


def test_the_console_lists_the_purposes_and_checks_a_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gridweave.cli import app as cli_app

    runner = CliRunner(env={"COLUMNS": "250", "GRIDWEAVE_DATA_DIR": str(tmp_path)})
    listed = runner.invoke(
        cli_app,
        ["purposes", "list", "--role", "department_officer", "--department", "migrant_rental"],
    )
    assert listed.exit_code == 0, listed.output
    assert "migrant_residence_registration" in listed.output
    assert "police_investigation" not in listed.output
    assert str(PURPOSES_FILE) in listed.output

    good = tmp_path / "city-purposes.yaml"
    good.write_text(
        "purposes:\n  tax_verification: {zh: 涉税信息核查, en: tax verification,"
        " roles: [department_officer], departments: [tax]}\n",
        encoding="utf-8",
    )
    checked = runner.invoke(cli_app, ["purposes", "check", str(good)])
    assert checked.exit_code == 0, checked.output
    assert "ok: 1 purposes" in checked.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("purposes:\n  x: {zh: 甲, en: x, roles: [mayor]}\n", encoding="utf-8")
    try:
        refused = runner.invoke(cli_app, ["purposes", "check", str(bad)])
        assert refused.exit_code != 0
        assert "bad.yaml: purpose 'x': roles.0" in str(refused.exception)
        # the deployment's own file, from the settings: every command uses it, or stops
        mine = runner.invoke(
            cli_app, ["purposes", "list"], env={"GRIDWEAVE_PURPOSES_FILE": str(good)}
        )
        assert mine.exit_code == 0, mine.output
        assert "tax_verification" in mine.output and "police_investigation" not in mine.output
        stopped = runner.invoke(
            cli_app, ["purposes", "list"], env={"GRIDWEAVE_PURPOSES_FILE": str(bad)}
        )
        assert stopped.exit_code != 0 and isinstance(stopped.exception, PurposesError)
    finally:
        use_purposes_file(None)
