"""Linking a synthetic city's people, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, func, select

from gridweave.core.database import transaction
from gridweave.linkage.models import GoldenMerge, LinkageRun
from gridweave.linkage.reports import evaluate_links, export_links, links
from gridweave.linkage.service import link_people
from gridweave.registry.models import Person

from .cities import city, ingest_city, ingest_one, truth

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return city(tmp_path_factory.getbasetemp(), 2000, 11)


def person_links(engine: Engine) -> pl.DataFrame:
    with transaction(engine) as session:
        return links(session, "person")


def people_of(engine: Engine, folder: Path) -> pl.DataFrame:
    """Each person source record's golden id beside its true person."""
    records = truth(folder).filter(pl.col("entity_type") == "person")
    return person_links(engine).join(records, on=["source", "record_key", "entity_type"])


def test_a_city_links_into_one_golden_person_per_person(
    engine: Engine, folder: Path, tmp_path: Path
) -> None:
    ingest_city(engine, folder)
    report = link_people(engine, actor="test")
    assert report.mode == "full"
    with transaction(engine) as session:
        person = next(
            q for q in evaluate_links(session, truth(folder)) if q.entity_type == "person"
        )
        assert person.precision >= 0.999
        assert person.recall >= 0.99
        assert export_links(session, out=tmp_path / "links.csv") == report.records_in
        assert session.scalar(select(func.count()).select_from(Person)) == report.golden_out
    exported = pl.read_csv(tmp_path / "links.csv")
    assert exported.columns == ["source", "record_key", "record_id", "entity_type", "golden_id"]
    assert exported["golden_id"].null_count() == 0  # every person record has its person

    linked = people_of(engine, folder)
    golden_of = linked.group_by("entity_id").agg(pl.col("golden_id").unique())
    for pairs in ("twins", "namesakes"):
        apart = truth(folder, pairs).select("person_id_a", "person_id_b")
        assert apart.height > 0
        both = apart.join(golden_of, left_on="person_id_a", right_on="entity_id").join(
            golden_of, left_on="person_id_b", right_on="entity_id", suffix="_b"
        )
        shared = both.filter(
            pl.col("golden_id").list.set_intersection("golden_id_b").list.len() > 0
        )
        assert shared.height == 0, f"{pairs} merged: {shared.rows()}"

    again = link_people(engine, actor="test")
    assert (again.mode, again.records_new, again.golden_created, again.merges) == (
        "incremental",
        0,
        0,
        0,
    )


def test_one_more_extract_changes_no_person_id(engine: Engine, folder: Path) -> None:
    ingest_city(engine, folder, skip={"hrss_insurance"})
    first = link_people(engine, actor="test")
    before = person_links(engine).select("record_id", "golden_id")

    ingest_one(engine, folder, "hrss_insurance")
    started = time.perf_counter()
    second = link_people(engine, actor="test")
    seconds = time.perf_counter() - started
    after = person_links(engine).select("record_id", "golden_id")

    assert second.mode == "incremental"
    assert second.records_new == after.height - before.height > 0
    # it read the new records and the few records sharing a blocking key with each, not the
    # whole library again: its work grows with the extract, not with the library
    assert second.records_read <= 5 * second.records_new < 5 * after.height
    assert second.records_read < after.height
    assert seconds < first.seconds
    changed = before.join(after, on="record_id", suffix="_after").filter(
        pl.col("golden_id") != pl.col("golden_id_after")
    )
    assert changed.height == 0
    with transaction(engine) as session:
        retired = session.scalars(select(GoldenMerge.from_id)).all()
        assert not set(retired) & set(before["golden_id"].to_list())
        runs = session.scalars(select(LinkageRun.mode).order_by(LinkageRun.id)).all()
        assert runs == ["full", "incremental"]
        person = next(
            q for q in evaluate_links(session, truth(folder)) if q.entity_type == "person"
        )
        assert person.precision >= 0.999 and person.recall >= 0.99
    assert after["golden_id"].null_count() == 0
