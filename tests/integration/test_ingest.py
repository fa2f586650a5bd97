"""Ingesting extracts into the base library, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, func, select, update

from gridweave.core.database import transaction
from gridweave.ingest import readers
from gridweave.ingest import service as ingest_service
from gridweave.ingest.models import Batch, QuarantinedRow, SourceRecord
from gridweave.ingest.service import (
    BatchReport,
    ingest_file,
    quarantined_values,
    register_source,
)
from gridweave.linkage.store import golden_anchors
from gridweave.registry.attributes import EntityType
from gridweave.registry.models import Household, Person
from gridweave.registry.service import claims, find_golden, golden_values
from tests.conftest import keyring_for_tests

from .extracts import CONTRACTS, PoliceRow, police_people, write_csv, write_jsonl


def snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, to prove that nothing changed."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {
            name: sorted(map(tuple, conn.execute(table.select()).all()), key=repr)
            for name, table in meta.tables.items()
            if name != "alembic_version"
        }


def register(engine: Engine, *names: str) -> None:
    with transaction(engine) as session:
        for name in names:
            register_source(session, path=CONTRACTS / f"{name}.yaml")


def ingest_police(
    engine: Engine, path: Path, people: list[PoliceRow], **options: Any
) -> BatchReport:
    """Write `people` as a police register extract at `path` and ingest it."""
    rows = [p.cells() for p in people]
    return ingest_file(engine, path=write_csv(path, rows), source_name="police_test", **options)


def police_loaded(engine: Engine, tmp_path: Path, n: int = 20) -> list[PoliceRow]:
    """The police contract registered and a first extract of `n` residents ingested."""
    register(engine, "police")
    people = police_people(n)
    ingest_police(engine, tmp_path / "a.csv", people)
    return people


def next_counts(report: BatchReport) -> tuple[int, int, int]:
    """What a next extract did: rows exactly as sent before, new records, unchanged records."""
    return report.rows_unchanged, report.records_new, report.records_unchanged


def count(engine: Engine, model: type) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_ingest_builds_golden_people_and_households(engine: Engine, tmp_path: Path) -> None:
    register(engine, "police")
    people = police_people(30)
    report = ingest_police(engine, tmp_path / "police.csv", people)
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (30, 30, 0)
    assert report.golden["person"].created == 30
    assert report.golden["household"].created == 10
    with transaction(engine) as session:
        person = find_golden(session, EntityType.person, people[4].cid)
        assert person.name == people[4].name
        assert person.sex == "male"
        assert golden_values(session, EntityType.person, person)["phone"] == people[4].phone
        assert person.relation_to_head == "spouse"
        household = session.scalar(select(Household).where(Household.household_number == "H000001"))
        assert household is not None and household.address == people[3].address
        # the three members' rows make one identical claim about their household
        assert household.sources == 1


def test_a_person_one_record_describes_points_every_value_at_it(
    engine: Engine, tmp_path: Path
) -> None:
    """A first load stores `{"*": record id}` as a golden person's provenance; every reader
    still gets each value's record: the claims shown, and linkage's anchor for the name."""
    people = police_loaded(engine, tmp_path, 3)
    with transaction(engine) as session:
        person = find_golden(session, EntityType.person, people[1].cid)
        record = session.scalars(
            select(SourceRecord.id).where(
                SourceRecord.entity_type == "person", SourceRecord.golden_id == person.id
            )
        ).one()
        assert person.provenance == {"*": record}
        shown = claims(session, EntityType.person, person)
        assert {c.attribute for c in shown} >= {"citizen_id", "name", "phone", "birth_date"}
        assert all(c.chosen for c in shown)
        anchor = golden_anchors(session, [people[1].cid]).row(0, named=True)
        assert (anchor["record_id"], anchor["name"]) == (record, people[1].name)


def test_a_first_load_finds_a_person_an_earlier_chunk_made(engine: Engine, tmp_path: Path) -> None:
    """A person registered twice (two record ids, one citizen id), the second time in a later
    chunk of the library's first load: one golden person with both claims, not a second one."""
    register(engine, "police")
    people = police_people(4)
    again = replace(people[0], record="R9999999", phone="13912345678")
    report = ingest_police(engine, tmp_path / "p.csv", [*people, again], chunk_rows=2)
    assert (report.golden["person"].created, report.golden["person"].updated) == (4, 1)
    with transaction(engine) as session:
        person = find_golden(session, EntityType.person, people[0].cid)
        assert person.sources == 2
        assert golden_values(session, EntityType.person, person)["phone"] == "13912345678"
    assert count(engine, Person) == 4


def test_chunks_store_what_one_batch_would(engine: Engine, tmp_path: Path) -> None:
    register(engine, "police")
    # households of three members, in chunks of two rows: every household spans two chunks
    report = ingest_police(engine, tmp_path / "police.csv", police_people(30), chunk_rows=2)
    assert (report.records_new, report.golden["household"].created) == (40, 10)
    assert count(engine, SourceRecord) == 30 + 10  # each household's claim once
    with transaction(engine) as session:
        assert set(session.scalars(select(Household.sources))) == {1}


def test_a_csv_read_in_blocks_keeps_every_row_and_line_number(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain CSV is split a block of lines at a time, the first block small (writing starts
    before a 32 MB block is split): rows across block ends keep their line numbers."""
    monkeypatch.setattr(readers, "FIRST_BLOCK_BYTES", 300)  # ~3 lines
    monkeypatch.setattr(readers, "BLOCK_BYTES", 700)  # ~7 lines
    register(engine, "police")
    people = police_people(60)
    rows = [p.cells() for p in people]
    rows[40] = rows[40][:5]  # line 42: cut short, in a later block
    path = write_csv(tmp_path / "police.csv", rows)
    seen: list[int] = []
    report = ingest_file(
        engine,
        path=path,
        source_name="police_test",
        progress=lambda done, size, rows: seen.append(done),
    )
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (60, 59, 1)
    header, *lines = path.read_bytes().split(b"\n")
    # the first block only: its 300 bytes carried on to the end of the line they stop in
    assert seen[0] <= len(header) + 1 + 300 + max(len(line) + 1 for line in lines)
    with transaction(engine) as session:
        held = session.scalars(select(QuarantinedRow)).one()
        assert held.line_number == 42 and "has 5 fields" in held.reasons[0]
        query = select(SourceRecord.record_key, SourceRecord.line_number)
        lines = {key: line for key, line in session.execute(query)}
    assert lines["R0000059#person"] == 61 and lines["R0000002#person"] == 4


def test_a_register_of_people_does_not_read_the_grid_polygons(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only buildings and city components are placed in grids: other extracts leave the area
    tree's polygons unread (thousands of shapes, ~0.2 s a batch)."""

    def unwanted(session: object) -> None:
        raise AssertionError("the grid polygons were read")

    monkeypatch.setattr(ingest_service, "grid_locator", unwanted)
    people = police_loaded(engine, tmp_path)
    assert count(engine, Person) == len(people)


def test_same_file_twice_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    register(engine, "police")
    path = write_csv(tmp_path / "police.csv", [p.cells() for p in police_people(50)])
    ingest_file(engine, path=path, source_name="police_test")
    before = snapshot(engine)
    again = ingest_file(engine, path=path, source_name="police_test")
    assert again.status == "already_ingested"
    assert snapshot(engine) == before


def test_new_extract_stores_only_changed_records(engine: Engine, tmp_path: Path) -> None:
    people = police_loaded(engine, tmp_path)
    people[0].phone = "13900000000"
    report = ingest_police(engine, tmp_path / "b.csv", people)
    # 19 rows sent again as they were are not cleaned again; the changed row's person record
    # is new, its household claim (the same as before) is not
    assert next_counts(report) == (19, 1, 1)
    assert count(engine, SourceRecord) == 28
    with transaction(engine) as session:
        found = find_golden(session, EntityType.person, people[0].cid)
        assert golden_values(session, EntityType.person, found)["phone"] == "13900000000"


def test_a_household_whose_first_member_left_is_not_claimed_anew(
    engine: Engine, tmp_path: Path
) -> None:
    people = police_loaded(engine, tmp_path)
    # the row that claimed the first household is gone; the next member's row (cleaned again:
    # their phone changed) claims the same household
    people[1].phone = "13900000001"
    report = ingest_police(engine, tmp_path / "b.csv", people[1:])
    assert next_counts(report) == (18, 1, 1)
    assert list(report.golden) == ["person"]
    assert count(engine, SourceRecord) == 28


def test_rows_sent_again_unchanged_are_recognised_not_cleaned(
    engine: Engine, tmp_path: Path
) -> None:
    people = police_loaded(engine, tmp_path)
    before = snapshot(engine)
    # the same rows in a new file, in chunks that are all unchanged but one
    people[19].phone = "13900000019"
    report = ingest_police(engine, tmp_path / "b.csv", people, chunk_rows=5)
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (20, 20, 0)
    assert next_counts(report) == (19, 1, 1)
    after = snapshot(engine)
    assert len(after["source_record"]) == len(before["source_record"]) + 1
    assert after["person"] != before["person"]  # the new phone
    assert after["household"] == before["household"]
    with transaction(engine) as session:
        batch = session.get(Batch, report.batch_id)
        assert batch is not None and batch.rows_unchanged == 19


def test_a_new_contract_cleans_every_row_again(engine: Engine, tmp_path: Path) -> None:
    people = police_loaded(engine, tmp_path)
    changed = tmp_path / "police.yaml"
    text = (CONTRACTS / "police.yaml").read_text(encoding="utf-8")
    changed.write_text(text.replace("title: ", "title: (v2) ", 1), encoding="utf-8")
    with transaction(engine) as session:
        assert register_source(session, path=changed)[1] == "updated"
    # the same rows in another order (the same file would be refused whole, by its digest)
    report = ingest_police(engine, tmp_path / "b.csv", people[::-1])
    # cleaned under the new contract, the rows make the same records: nothing stored
    assert next_counts(report) == (0, 0, 27)
    assert ingest_police(engine, tmp_path / "c.csv", people[1:] + people[:1]).rows_unchanged == 20


def test_rows_stored_before_row_hashes_are_recognised_from_the_next_extract(
    engine: Engine, tmp_path: Path
) -> None:
    """Records written before rows were hashed (or a row whose cells changed but not its
    records: a padded record id) get the row's hash when it is next cleaned."""
    people = police_loaded(engine, tmp_path)
    with transaction(engine) as session:
        session.execute(update(SourceRecord).values(row_hash=None))
    people[0].record = f" {people[0].record} "
    report = ingest_police(engine, tmp_path / "b.csv", people)
    assert next_counts(report) == (0, 0, 27)
    before = snapshot(engine)
    again = ingest_police(engine, tmp_path / "c.csv", people[::-1])
    assert next_counts(again) == (20, 0, 0)
    assert {k: v for k, v in snapshot(engine).items() if k != "batch"} == {
        k: v for k, v in before.items() if k != "batch"
    }


def test_an_unchanged_row_repeated_still_waits_in_quarantine(
    engine: Engine, tmp_path: Path
) -> None:
    register(engine, "police")
    people = police_people(6)
    ingest_police(engine, tmp_path / "a.csv", people)
    report = ingest_police(engine, tmp_path / "b.csv", [*people, people[2]], chunk_rows=3)
    assert (report.rows_read, report.rows_unchanged, report.rows_quarantined) == (7, 6, 1)
    with transaction(engine) as session:
        row = session.scalars(select(QuarantinedRow)).one()
        assert (row.line_number, row.reasons) == (
            8,
            [f"record id '{people[2].record}' already appears on line 4"],
        )


def test_a_quarantined_row_sent_again_is_quarantined_again(engine: Engine, tmp_path: Path) -> None:
    register(engine, "police")
    people = police_people(5)
    people[3].cid = "not an id"
    ingest_police(engine, tmp_path / "a.csv", people)
    report = ingest_police(engine, tmp_path / "b.csv", people[::-1])
    assert (report.rows_unchanged, report.rows_quarantined) == (4, 1)
    assert count(engine, QuarantinedRow) == 2


def test_survivorship_and_provenance_across_departments(engine: Engine, tmp_path: Path) -> None:
    """Police wins on the name; the newest source wins on the phone; every claim is kept."""
    register(engine, "police", "clinic")
    people = police_people(3)
    ingest_police(
        engine, tmp_path / "police.csv", people, extracted_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    target = people[1]
    write_jsonl(
        tmp_path / "clinic.jsonl",
        [
            {
                "档案号": "D1",
                "身份证号": target.cid.lower(),
                "姓名": "張芳1 ",
                "手机": "+86 139-0000-1111",
                "婚姻状况": "已婚",
                "更新时间": "2026-03-01 10:00:00",
            }
        ],
    )
    ingest_file(engine, path=tmp_path / "clinic.jsonl", source_name="clinic_test")
    with transaction(engine) as session:
        person = find_golden(session, EntityType.person, target.cid)
        assert person.name == target.name  # police priority 100 beats health's 30
        newer = golden_values(session, EntityType.person, person)["phone"]
        assert newer == "13900001111"  # health's observation is newer
        assert person.marital_status == "married"
        assert person.sources == 2
        by_attr = {}
        for c in claims(session, EntityType.person, person):
            by_attr.setdefault(c.attribute, []).append(c)
        names = {c.source: (c.value, c.chosen) for c in by_attr["name"]}
        assert names == {"police_test": (target.name, True), "clinic_test": ("张芳1", False)}
        clinic_name = next(c for c in by_attr["name"] if c.source == "clinic_test")
        assert clinic_name.raw == "張芳1 " and clinic_name.line_number == 1
        assert clinic_name.department == "卫生健康局"
        phone = next(c for c in by_attr["phone"] if c.chosen)
        assert (phone.source, phone.raw) == ("clinic_test", "+86 139-0000-1111")


def test_invalid_rows_are_quarantined_with_reasons(engine: Engine, tmp_path: Path) -> None:
    register(engine, "police")
    people = police_people(6)
    people[1].cid = people[1].cid[:-1] + ("0" if people[1].cid[-1] != "0" else "1")
    people[2].cid = ""
    people[3].birth = "19851345"
    people[4].sex = "7"
    report = ingest_police(engine, tmp_path / "p.csv", people)
    assert (report.rows_accepted, report.rows_quarantined) == (4, 2)
    with transaction(engine) as session:
        rows = session.scalars(select(QuarantinedRow).order_by(QuarantinedRow.line_number)).all()
        assert [r.line_number for r in rows] == [3, 4]
        assert rows[0].reasons[0].startswith("公民身份号码: check character")
        assert rows[1].reasons == ["公民身份号码: required value is missing"]
        assert (
            quarantined_values(keyring_for_tests(), rows[0].row)["姓名"] == people[1].name
        )  # the whole row is kept
        flagged = session.scalars(select(SourceRecord).where(SourceRecord.flags.is_not(None))).all()
        problems = sorted(f for r in flagged for f in r.flags or [])
        assert any(p.startswith("出生日期:") for p in problems)
        assert any(p.startswith("性别代码:") and "'7'" in p for p in problems)
        assert session.scalar(select(func.count()).select_from(Person)) == 4


def test_duplicate_record_ids_wait_in_quarantine(engine: Engine, tmp_path: Path) -> None:
    register(engine, "police")
    people = police_people(3)
    people[2].record = people[0].record
    report = ingest_police(engine, tmp_path / "p.csv", people)
    assert report.rows_quarantined == 1
    with transaction(engine) as session:
        row = session.scalars(select(QuarantinedRow)).one()
        assert row.reasons == [f"record id '{people[0].record}' already appears on line 2"]


def test_a_record_id_again_in_a_later_chunk_waits_in_quarantine(
    engine: Engine, tmp_path: Path
) -> None:
    register(engine, "police")
    people = police_people(12)
    people[10].record = people[1].record  # line 12 repeats line 3, three chunks later
    report = ingest_police(engine, tmp_path / "p.csv", people, chunk_rows=4)
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (12, 11, 1)
    assert report.golden["person"].created == 11
    with transaction(engine) as session:
        row = session.scalars(select(QuarantinedRow)).one()
        assert row.line_number == 12
        assert row.reasons == [f"record id '{people[1].record}' already appears on line 3"]
        stored = session.scalars(
            select(SourceRecord).where(SourceRecord.record_key.startswith(people[1].record))
        ).all()
        assert {r.line_number for r in stored} == {3}  # the first occurrence, and only it


def test_refusal_is_recorded_and_loses_nothing(engine: Engine, tmp_path: Path) -> None:
    register(engine, "police")
    ingest_police(engine, tmp_path / "ok.csv", police_people(5))
    before = {m.__name__: count(engine, m) for m in (Person, SourceRecord, QuarantinedRow)}
    bad = write_csv(
        tmp_path / "gbk.csv", [p.cells() for p in police_people(5, 100)], encoding="gbk"
    )
    with pytest.raises(Exception, match="not valid UTF-8"):
        ingest_file(engine, path=bad, source_name="police_test")
    assert {m.__name__: count(engine, m) for m in (Person, SourceRecord, QuarantinedRow)} == before
    with transaction(engine) as session:
        refused = session.scalars(select(Batch).where(Batch.status == "refused")).one()
        assert "gbk.csv" in refused.file_name and "GB18030" in (refused.error or "")


def test_problems_do_not_quote_ids_or_phones(engine: Engine, tmp_path: Path) -> None:
    """A near-miss phone is still someone's phone: its problem says 'the value', not it."""
    register(engine, "police")
    people = police_people(3)
    people[1].phone = "1381234567"  # one digit short: kept, flagged
    ingest_police(engine, tmp_path / "p.csv", people)
    with transaction(engine) as session:
        flags = [f for r in session.scalars(select(SourceRecord)) for f in r.flags or []]
    assert any("the value is not a valid phone number" in f for f in flags), flags
    assert not any("1381234567" in f for f in flags)
