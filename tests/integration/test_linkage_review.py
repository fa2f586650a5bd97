"""Steward review, splits, id conflicts and a source without ids, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, select

from gridweave.core.database import transaction
from gridweave.ingest.service import ingest_file, register_source
from gridweave.linkage import review
from gridweave.linkage.config import parse_config
from gridweave.linkage.models import GoldenMerge, ReviewItem
from gridweave.linkage.reports import evaluate_links, links
from gridweave.linkage.service import link_people, resolve_person
from gridweave.registry.attributes import EntityType
from gridweave.registry.models import Person
from gridweave.registry.service import find_golden, golden_values

from .cities import city, ingest_city, ingest_one, truth
from .extracts import write_jsonl

pytestmark = pytest.mark.slow

CLINIC = """
name: clinic_noid
title: 社区门诊登记 (no id column)
department: {code: health, name: 卫生健康局}
topic: 健康
catalog: {update_frequency: monthly, sharing: shared_on_approval}
file: {format: jsonl, encoding: utf-8}
record_id: 档案号
entities:
  - entity: person
    attributes:
      name: {column: 姓名, priority: 30, required: true}
      sex: {column: 性别, codes: {男: male, 女: female}, priority: 30}
      birth_date: {column: 出生日期, priority: 30}
      phone: {column: 手机, priority: 30}
      residence_address: {column: 住址, priority: 30}
"""
# a small city needs little training: fewer sampled pairs keep these tests quick
SMALL = "training: {u_max_pairs: 50000, em_max_pairs: 50000}"
FAST = parse_config(f"person: {{{SMALL}}}")
TIGHT = parse_config(f"person: {{thresholds: {{link: 0.9999999, review: 0.5}}, {SMALL}}}")
LOOSE = parse_config(f"person: {{thresholds: {{link: 0.5, review: 0.4}}, {SMALL}}}")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return city(tmp_path_factory.getbasetemp(), 500, 5)


def golden_of(engine: Engine, record_id: int) -> int | None:
    with transaction(engine) as session:
        return links(session).filter(pl.col("record_id") == record_id)["golden_id"].item()


def add_clinic(engine: Engine, tmp_path: Path, rows: list[dict[str, object]]) -> None:
    contract = tmp_path / "clinic_noid.yaml"
    contract.write_text(CLINIC, encoding="utf-8")
    with transaction(engine) as session:
        register_source(session, path=contract)
    ingest_file(
        engine, path=write_jsonl(tmp_path / "clinic.jsonl", rows), source_name="clinic_noid"
    )


def clinic_record_ids(engine: Engine) -> dict[str, int]:
    with transaction(engine) as session:
        frame = links(session).filter(pl.col("source") == "clinic_noid")
    return dict(zip(frame["record_key"], frame["record_id"], strict=True))


def test_accepted_and_rejected_pairs_are_kept_by_later_runs(engine: Engine, folder: Path) -> None:
    ingest_city(engine, folder)
    link_people(engine, actor="test", config=TIGHT)
    with transaction(engine) as session:
        items, total = review.list_items(session, kind="uncertain", limit=2)
    assert total >= 2
    accepted, rejected = items
    with transaction(engine) as session:
        review.decide(session, item_id=accepted.item.id, accept=True, actor="steward")
        review.decide(session, item_id=rejected.item.id, accept=False, actor="steward")
        merge = session.scalars(select(GoldenMerge).where(GoldenMerge.reason == "review")).one()
        assert merge.into_id == min(accepted.left.golden_id, accepted.right.golden_id)
        assert resolve_person(session, merge.from_id) == merge.into_id
        assert session.get(Person, merge.from_id) is None
    left, right = accepted.left.record_id, accepted.right.record_id
    assert golden_of(engine, left) == golden_of(engine, right) == merge.into_id

    # a permissive model would link the rejected pair; the steward's decision holds
    link_people(engine, actor="test", config=LOOSE, full=True)
    assert golden_of(engine, left) == golden_of(engine, right)
    assert golden_of(engine, rejected.left.record_id) != golden_of(engine, rejected.right.record_id)
    with transaction(engine) as session:
        pair = (rejected.item.record_id, rejected.item.other_id)
        same = session.scalars(
            select(ReviewItem).where(
                ReviewItem.record_id == pair[0], ReviewItem.other_id == pair[1]
            )
        ).all()
        assert [i.status for i in same] == ["rejected"]


def test_a_record_with_someone_elses_valid_id_goes_to_review(
    engine: Engine, folder: Path, tmp_path: Path
) -> None:
    ingest_city(engine, folder)
    people = truth(folder, "people").filter(pl.col("registered") == "true")
    owner, other = people.row(0, named=True), people.row(1, named=True)
    # a clerk copied the owner's id onto another person's record
    clinic = CLINIC.replace("      name:", "      citizen_id: {column: 身份证号}\n      name:")
    (tmp_path / "c").mkdir()
    contract = tmp_path / "c" / "clinic_noid.yaml"
    contract.write_text(clinic, encoding="utf-8")
    with transaction(engine) as session:
        register_source(session, path=contract)
    row = {"档案号": "X1", "身份证号": owner["citizen_id"], "姓名": other["name"]}
    row |= {"出生日期": other["birth_date"], "性别": "男" if other["sex"] == "male" else "女"}
    row |= {"手机": None, "住址": None}
    ingest_file(engine, path=write_jsonl(tmp_path / "x.jsonl", [row]), source_name="clinic_noid")

    report = link_people(engine, actor="test", config=FAST)
    assert report.id_conflicts == 1
    record = clinic_record_ids(engine)["X1"]
    with transaction(engine) as session:
        items, _ = review.list_items(session, kind="id_conflict")
        assert [(i.left.record_id, i.item.status) for i in items] == [(record, "open")]
        owner_person = find_golden(session, EntityType.person, owner["citizen_id"])
        assert owner_person.name == owner["name"]
    assert golden_of(engine, record) != owner_person.id

    with transaction(engine) as session:
        review.decide(session, item_id=items[0].item.id, accept=False, actor="steward")
    link_people(engine, actor="test", config=FAST, full=True)
    assert golden_of(engine, record) != owner_person.id
    with transaction(engine) as session:
        kept = golden_values(session, EntityType.person, session.get(Person, owner_person.id))
        assert kept["citizen_id"] == owner["citizen_id"]
        assert len(review.list_items(session, kind="id_conflict", status=None)[0]) == 1


def test_a_split_is_respected_by_later_runs(engine: Engine, folder: Path, tmp_path: Path) -> None:
    ingest_city(engine, folder, skip={"housing_rentals"})
    link_people(engine, actor="test", config=FAST)
    with transaction(engine) as session:
        frame = links(session)
        sizes = frame.group_by("golden_id").len().filter(pl.col("len") >= 3).sort("golden_id")
        golden_id = sizes["golden_id"][0]
        members = frame.filter(pl.col("golden_id") == golden_id)["record_id"].sort()
        moved = members[-1]
        new_id = review.split(session, golden_id=golden_id, record_ids=[moved], actor="steward")
    assert golden_of(engine, moved) == new_id
    link_people(engine, actor="test", config=FAST, full=True)
    assert golden_of(engine, moved) not in (None, golden_of(engine, members[0]))
    ingest_one(engine, folder, "housing_rentals")
    assert link_people(engine, actor="test", config=FAST).mode == "incremental"
    assert golden_of(engine, moved) != golden_of(engine, members[0])


def test_a_source_without_any_id_column_links(engine: Engine, folder: Path, tmp_path: Path) -> None:
    ingest_city(engine, folder)
    people = truth(folder, "people").filter(pl.col("status") == "alive").head(200)
    rows = [
        {
            "档案号": f"C{i:04d}",
            "姓名": p["name"],
            "性别": "男" if p["sex"] == "male" else "女",
            "出生日期": p["birth_date"].replace("-", "/"),
            "手机": p["phone"],
            "住址": p["residence_address"],
        }
        for i, p in enumerate(people.iter_rows(named=True))
    ]
    add_clinic(engine, tmp_path, rows)
    config = parse_config(
        """
person:
  comparisons: [name, birth_date, sex, phone, address]
  blocking: [[name_py], [birth_date, surname], [phone]]
  training: {u_max_pairs: 50000, em_max_pairs: 50000}
"""
    )
    link_people(engine, actor="test", config=config)
    extra = pl.DataFrame(
        {
            "source": "clinic_noid",
            "record_key": [r["档案号"] for r in rows],
            "entity_type": "person",
            "entity_id": people["person_id"],
        }
    )
    with transaction(engine) as session:
        quality = evaluate_links(session, pl.concat([truth(folder), extra]))[0]
        clinic = links(session).filter(pl.col("source") == "clinic_noid")
    assert quality.precision >= 0.999 and quality.recall >= 0.99
    # the clinic's records joined the people they describe, not golden people of their own
    mates = links_of_truth(engine, folder).join(
        extra.select("record_key", "entity_id"), on="entity_id"
    )
    assert clinic.height == 200 and mates.height > 0


def links_of_truth(engine: Engine, folder: Path) -> pl.DataFrame:
    with transaction(engine) as session:
        frame = links(session)
    records = truth(folder).filter(pl.col("entity_type") == "person")
    return frame.join(records, on=["source", "record_key", "entity_type"])
