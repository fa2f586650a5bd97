"""Linking a library too small to train on, and an empty one."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from sqlalchemy import Engine

from gridweave.core.database import transaction
from gridweave.ingest.service import ingest_file
from gridweave.linkage.config import parse_config
from gridweave.linkage.probabilistic import prior_match_probability
from gridweave.linkage.reports import links
from gridweave.linkage.service import link_people

from .extracts import police_people, write_csv, write_jsonl
from .test_ingest import register


def test_an_empty_library_links_to_nothing(engine: Engine) -> None:
    report = link_people(engine, actor="test")
    assert (report.records_in, report.golden_out, report.pairs_scored) == (0, 0, 0)


def test_a_tiny_library_links_every_record(engine: Engine, tmp_path: Path) -> None:
    register(engine, "police", "clinic")
    people = police_people(30)
    ingest_file(
        engine,
        path=write_csv(tmp_path / "p.csv", [p.cells() for p in people]),
        source_name="police_test",
    )
    clinic = [
        {"档案号": "A1", "身份证号": None, "姓名": people[0].name, "手机": people[0].phone},
        {"档案号": "A2", "身份证号": "", "姓名": "无名氏", "手机": None},
        {"档案号": "A3", "身份证号": people[5].cid, "姓名": people[5].name, "手机": None},
    ]
    for row in clinic:
        row |= {"婚姻状况": None, "更新时间": "2025-01-01"}
    ingest_file(engine, path=write_jsonl(tmp_path / "c.jsonl", clinic), source_name="clinic_test")
    with transaction(engine) as session:
        before = links(session)
    report = link_people(engine, actor="test")
    with transaction(engine) as session:
        after = links(session)
    assert report.records_in == 33 and after["golden_id"].null_count() == 0
    keyed = before.filter(pl.col("golden_id").is_not_null())
    assert (
        keyed.join(after, on="record_id")
        .filter(pl.col("golden_id") != pl.col("golden_id_right"))
        .is_empty()
    )
    golden = dict(zip(after["record_key"], after["golden_id"], strict=True))
    assert golden["A3"] == golden[f"{people[5].record}#person"]
    assert golden["A2"] not in {golden[f"{p.record}#person"] for p in people}


def test_prior_match_probability_from_valid_ids() -> None:
    frame = pl.DataFrame({"id_key": ["a", "a", "b", None]}, schema={"id_key": pl.String})
    assert prior_match_probability(frame, 0.5) == 1 / 6 / 0.5
    assert prior_match_probability(frame.head(1), 0.5) == 1e-4


def test_new_blocking_keys_make_a_full_run_that_rebuilds_them(
    engine: Engine, tmp_path: Path
) -> None:
    register(engine, "police", "clinic")
    people = police_people(12)
    rows = [p.cells() for p in people]
    ingest_file(engine, path=write_csv(tmp_path / "p.csv", rows), source_name="police_test")
    idless = {"档案号": "A1", "身份证号": None, "姓名": people[0].name, "手机": people[0].phone}
    idless |= {"婚姻状况": None, "更新时间": "2025-01-01"}
    ingest_file(engine, path=write_jsonl(tmp_path / "c.jsonl", [idless]), source_name="clinic_test")
    assert link_people(engine, actor="test").mode == "full"
    assert link_people(engine, actor="test").mode == "incremental"
    phones = parse_config("person: {blocking: [[phone]]}")
    assert link_people(engine, actor="test", config=phones).mode == "full"
    with transaction(engine) as session:
        keys = session.connection().exec_driver_sql("SELECT key FROM person_block_key").all()
    # an id key per police record and a phone key per record, nothing of the old keys
    assert sorted(k[0].split("|")[0] for k in keys) == ["0"] * 13 + ["id"] * 12
    assert link_people(engine, actor="test", config=phones).mode == "incremental"
