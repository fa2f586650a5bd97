"""The audit chain on SQLite and PostgreSQL: appends chain in commit order, and verify names
an edited, a deleted and a swapped entry, a cut-off tail, under SHA-256 and SM3."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from gridweave.cli import app
from gridweave.core.database import transaction
from gridweave.sharing import audit, identities, service
from gridweave.sharing.gate import Actor
from gridweave.sharing.roles import Role

police = Actor(7, "police_li", Role.department_officer, "public_security", "440300")


def _fill(engine: Engine, n: int, algorithm: str = "sha256") -> None:
    for i in range(n):
        with transaction(engine) as session:
            event = audit.Event(
                "person.read",
                "allow",
                "person",
                100 + i,
                person_id=100 + i,
                purpose="police_investigation",
                fields={"name": "allow", "school": "deny"},
                detail={"n": i},
            )
            audit.append(session, actor=police, events=[event], trail=audit.Trail(algorithm))


def _verify(engine: Engine) -> audit.Verification:
    with transaction(engine) as session:
        return audit.verify(session)


def _kinds(result: audit.Verification) -> set[tuple[int, str]]:
    return {(p.seq, p.kind) for p in result.problems}


@pytest.mark.parametrize("algorithm", ["sha256", "sm3"])
def test_an_untouched_chain_verifies(engine: Engine, algorithm: str) -> None:
    _fill(engine, 6, algorithm)
    result = _verify(engine)
    assert result.ok and result.entries == 6


def test_entries_chain_by_hash_from_the_genesis(engine: Engine) -> None:
    _fill(engine, 3)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, prev_hash, hash FROM audit_entry ORDER BY seq")).all()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == audit.GENESIS
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash


@pytest.mark.parametrize("algorithm", ["sha256", "sm3"])
def test_an_edited_entry_is_named(engine: Engine, algorithm: str) -> None:
    _fill(engine, 6, algorithm)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET purpose = 'case_handling' WHERE seq = 3"))
    result = _verify(engine)
    assert _kinds(result) == {(3, "edited")}
    assert "entry 3" in result.problems[0].message


def test_an_edit_of_the_json_fields_is_seen(engine: Engine) -> None:
    _fill(engine, 4)
    edited = orjson.dumps({"name": "allow", "school": "allow"}).decode()
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET fields = :f WHERE seq = 2"), {"f": edited})
    assert _kinds(_verify(engine)) == {(2, "edited")}


def test_a_deleted_entry_is_named(engine: Engine) -> None:
    _fill(engine, 6)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq = 4"))
    result = _verify(engine)
    assert _kinds(result) == {(4, "deleted")}
    assert "entry 4 is missing" in result.problems[0].message


def test_swapped_entries_are_named(engine: Engine) -> None:
    _fill(engine, 6)
    with engine.begin() as conn:  # exchange the places of entries 3 and 4
        conn.execute(text("UPDATE audit_entry SET seq = -1 WHERE seq = 3"))
        conn.execute(text("UPDATE audit_entry SET seq = 3 WHERE seq = 4"))
        conn.execute(text("UPDATE audit_entry SET seq = 4 WHERE seq = -1"))
    result = _verify(engine)
    # 3 now follows 4, 4 follows 2, and 5 follows the entry that moved to 3
    assert _kinds(result) == {(3, "reordered"), (4, "reordered"), (5, "reordered")}
    messages = " | ".join(p.message for p in result.problems)
    assert "entry 3 follows entry 4" in messages and "entry 4 follows entry 2" in messages


def test_a_cut_off_tail_is_seen(engine: Engine) -> None:
    _fill(engine, 5)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq >= 4"))
    result = _verify(engine)
    assert _kinds(result) == {(4, "deleted")}


def test_a_rehashed_forgery_still_breaks_at_the_head(engine: Engine) -> None:
    """Someone who edits the last entry and recomputes its hash still disagrees with the head."""
    _fill(engine, 3)
    with transaction(engine) as session:
        entry = session.get(audit.AuditEntry, 3)
        assert entry is not None
        entry.purpose = "case_handling"
        session.flush()
        entry.hash = audit.digest(
            entry.algorithm, entry.prev_hash, audit.canonical(audit.content_of(entry))
        )
    assert _kinds(_verify(engine)) == {(3, "head")}


def test_sha256_and_sm3_entries_verify_in_one_chain(engine: Engine) -> None:
    _fill(engine, 2, "sha256")
    _fill(engine, 2, "sm3")
    with engine.connect() as conn:
        algorithms = (
            conn.execute(text("SELECT algorithm FROM audit_entry ORDER BY seq")).scalars().all()
        )
    assert algorithms == ["sha256", "sha256", "sm3", "sm3"]
    assert _verify(engine).ok


def test_concurrent_appends_keep_one_chain(engine: Engine) -> None:
    def worker() -> None:
        _fill(engine, 10)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = _verify(engine)
    assert result.ok and result.entries == 40


def test_a_rolled_back_change_leaves_no_entry(engine: Engine) -> None:
    with pytest.raises(RuntimeError), transaction(engine) as session:
        audit.append(session, actor=police, events=[audit.Event("x", "ok")], trail=audit.Trail())
        raise RuntimeError("the change failed")
    result = _verify(engine)
    assert result.ok and result.entries == 0


def test_only_auditors_search_and_their_searches_are_audited(engine: Engine) -> None:
    _fill(engine, 3)
    with pytest.raises(Exception, match="only a auditor"), transaction(engine) as session:
        service.search_audit(session, actor=police, trail=audit.Trail(), filters=audit.Filters())
    auditor = identities.console_actor(Role.auditor)
    with transaction(engine) as session:
        found = service.search_audit(
            session, actor=auditor, trail=audit.Trail(), filters=audit.Filters(person_id=101)
        )
    assert [e.record_id for e in found] == [101]
    with transaction(engine) as session:
        actions = [e.action for e in audit.find_entries(session, audit.Filters(), limit=None)]
    assert actions[-1] == "audit.searched"


def _cli(engine: Engine, *args: str) -> object:
    return CliRunner().invoke(
        app, ["--database-url", str(engine.url.render_as_string(hide_password=False)), *args]
    )


def test_cli_verify_exits_1_naming_the_entry(engine: Engine) -> None:
    _fill(engine, 5)
    ok = _cli(engine, "audit", "verify")
    assert ok.exit_code == 0, ok.output  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry WHERE seq = 2"))
    broken = _cli(engine, "audit", "verify")
    assert broken.exit_code == 1  # type: ignore[attr-defined]
    assert "entry 2" in broken.output and "deleted" in broken.output  # type: ignore[attr-defined]


def test_cli_export_writes_json_lines_with_hashes(engine: Engine, tmp_path: Path) -> None:
    _fill(engine, 3)
    out = tmp_path / "audit.jsonl"
    result = _cli(engine, "audit", "export", "--out", str(out), "--action", "person.read")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    lines = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert all(len(line["hash"]) == 64 for line in lines)
    searched = _cli(engine, "audit", "search", "--action", "audit.exported", "--json")
    assert orjson.loads(searched.output.splitlines()[0])["detail"]["results"] == 3  # type: ignore[attr-defined]


def test_chinese_text_empty_maps_and_nulls_hash_alike_in_the_database_and_here(
    engine: Engine,
) -> None:
    """On PostgreSQL single entries are hashed by the database; verify recomputes in Python."""
    odd = [
        audit.Event("auth.login_failed", "fail", detail={"username": "欧阳锋", "reason": "密码"}),
        audit.Event("person.read", "allow", "person", 1, fields={}, detail={}),
        audit.Event("x", "ok", detail={"quote": '"\\\n\t', "emoji": "🙂", "n": 2**62}),
        audit.Event("x", "ok", detail={"placeholder": audit._PLACEHOLDER}),  # falls back
    ]
    for event in odd:
        with transaction(engine) as session:
            audit.append(session, actor=None, events=[event], trail=audit.Trail(), name="名字")
    result = _verify(engine)
    assert result.ok and result.entries == 4
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET actor_name = '名子' WHERE seq = 1"))
    assert _kinds(_verify(engine)) == {(1, "edited")}
