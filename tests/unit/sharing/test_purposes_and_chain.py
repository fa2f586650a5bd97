"""The purposes file, and the audit chain's pure parts: canonical JSON and the two hashes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridweave.registry.attributes import ATTRIBUTES
from gridweave.sharing.audit import GENESIS, canonical, digest
from gridweave.sharing.purposes import allowed_purposes, parse_purposes, purposes
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


def test_a_purposes_file_with_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="role"):
        parse_purposes("purposes:\n  x: {zh: 甲, en: x, roles: [mayor]}\n")


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
