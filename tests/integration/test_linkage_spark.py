"""The Spark backend gives the same links as DuckDB: level by level, pair by pair, and clusters.

One local Spark session serves every test here (the `spark` fixture in tests/conftest.py);
they skip only when no Java runtime is found.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gridweave.core.database import transaction
from gridweave.linkage import comparisons as cmp
from gridweave.linkage import store
from gridweave.linkage.config import parse_config, with_backend
from gridweave.linkage.features import comparison_frame
from gridweave.linkage.models import LinkageRun
from gridweave.linkage.probabilistic import score, with_term_frequencies
from gridweave.linkage.reports import links
from gridweave.linkage.service import _link, link_people
from gridweave.linkage.spark import SparkUnavailable, spark_session

from ..unit.linkage.test_comparisons import features, level_of
from .cities import city, ingest_city, ingest_one
from .test_cli import gridweave

pytestmark = pytest.mark.slow

LAST = "hrss_insurance"  # the extract an incremental run links
SPARK = "backend: spark\nspark: {master: 'local[2]', shuffle_partitions: 2}"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return city(tmp_path_factory.getbasetemp(), 500, 11)


CUSTOM = """
person:
  custom_comparisons:
    - name: hukou_building
      levels:
        - {label: missing, sql: "hukou_building_key_l IS NULL OR hukou_building_key_r IS NULL", "null": true}
        - {label: pinyin close, sql: "jaro_winkler_similarity(given_py_l, given_py_r) > 0.8 AND list_has_any(room_keys_l, room_keys_r)"}
        - {label: different, sql: ELSE}
"""  # noqa: E501


def spark_levels(
    spark: Any, comparisons: list[cmp.Comparison], left: pl.DataFrame, right: pl.DataFrame
) -> dict[str, list[str]]:
    """level_of for every comparison at once, in Spark SQL (one Spark job)."""
    pairs = (
        pl.concat(
            [left.rename(lambda c: f"{c}_l"), right.rename(lambda c: f"{c}_r")], how="horizontal"
        )
        .with_row_index("i")
        .with_columns(pl.col("i").cast(pl.Int64))
    )
    spark.createDataFrame(pairs.to_arrow()).createOrReplaceTempView("gw_level_pairs")
    columns = []
    for comparison in comparisons:
        cases = " ".join(
            f"WHEN {lv['sql_condition']} THEN '{lv['label_for_charts']}'"
            for lv in comparison["comparison_levels"]
            if lv["sql_condition"] != "ELSE"
        )
        columns.append(f"CASE {cases} ELSE 'different' END AS {comparison['output_column_name']}")
    rows = spark.sql(f"SELECT {', '.join(columns)} FROM gw_level_pairs ORDER BY i").collect()
    return {
        c["output_column_name"]: [r[c["output_column_name"]] for r in rows] for c in comparisons
    }


def test_every_level_falls_alike_on_spark_and_duckdb(spark: Any) -> None:
    cid = "440303198503020011"
    swapped = cid[:10] + cid[11] + cid[10] + cid[12:]
    left = features(
        name=["张伟明", "张伟明", "欧阳娜娜", "张伟", "李卫明", "王建国", "张伟", None],
        birth_date=["1985-03-02"] * 4 + ["1985-03-02", "1985-03-02", "1990-01-01", None],
        citizen_id=[cid, cid, cid, cid, cid, None, cid, cid],
        phone=["13800138000"] * 8,
        residence_address=["罗湖区桂园路1号1栋1单元1103"] * 8,
        hukou_address=["罗湖区桂园路1号1栋1单元1103"] * 8,
    )
    right = features(
        name=["张玮明", "张伟强", "欧阳娜", "张强", "李伟民", "王建华", "张伟", "张伟"],
        birth_date=[
            *["1985-03-02", "1985-02-03", "1985-03-09", "1985-03-20"],
            *["1985-12-31", None, "1990-01-01", "1990-01-01"],
        ],
        citizen_id=[
            *[cid, swapped, cid[:5] + "99" + cid[7:], "110101199001011234"],
            *[None, cid, cid, None],
        ],
        phone=["13800138000", "13900139000", None, "13800138000"] * 2,
        residence_address=["深圳市罗湖区桂园路1号1座1单元1103室", "罗湖区桂园路1号1栋2单元805"]
        + ["福田区深南大道1号2栋101", None] * 3,
        hukou_address=["罗湖区桂园路1号1栋1单元1103"] * 6 + [None, "福田区深南大道1号2栋101"],
    )
    config = parse_config(SPARK + CUSTOM)
    on_spark = cmp.comparisons(config, "spark")
    assert "arrays_overlap" in on_spark[-1]["comparison_levels"][1]["sql_condition"]
    expected = {c["output_column_name"]: level_of(c, left, right) for c in cmp.comparisons(config)}
    assert spark_levels(spark, on_spark, left, right) == expected
    # the pairs reach the levels that need character-correct comparisons
    assert expected["name"][:3] == [
        "same pinyin with tones (homophone)",
        "one character apart",
        "one character apart",
    ]
    assert expected["citizen_id"][1:3] == ["one edit apart", "two edits apart"]
    assert "pinyin close" in expected["hukou_building"]


class Undone(Exception):
    """Raised to roll a link run back after reading what it did."""


def clusters(session: Session) -> pl.DataFrame:
    """Each person record's fellow records (by the departments' keys), not the golden ids."""
    return (
        links(session, "person")
        .group_by("golden_id")
        .agg(pl.col("record_key").sort().alias("cluster"))
        .select(pl.col("cluster").list.join(" ").alias("cluster"))
        .sort("cluster")
    )


def test_spark_gives_the_links_and_weights_duckdb_gives(
    engine: Engine, folder: Path, spark: Any
) -> None:
    config = parse_config(SPARK)
    ingest_city(engine, folder, skip={LAST})
    link_people(engine, actor="test", config=with_backend(config, "duckdb"))
    ingest_one(engine, folder, LAST)
    # what DuckDB makes of the new extract with the trained model, rolled back; then the same
    # run on Spark, kept
    try:
        with transaction(engine) as session:
            on_duckdb = _link(
                session, "test", with_backend(config, "duckdb"), False, lambda _: None
            )
            expected = clusters(session)
            raise Undone
    except Undone:
        pass
    on_spark = link_people(engine, actor="test", config=config)
    assert on_spark.mode == on_duckdb.mode == "incremental" and on_spark.records_new > 0
    assert on_spark.pairs_scored == on_duckdb.pairs_scored > 0
    assert (on_spark.auto_links, on_spark.review_items) == (
        on_duckdb.auto_links,
        on_duckdb.review_items,
    )
    with transaction(engine) as session:
        linked = clusters(session)
        model = session.scalars(select(LinkageRun.model).where(LinkageRun.mode == "full")).one()
        frame = comparison_frame(store.load_features(session))
    assert linked.height == expected.height
    assert linked.equals(expected)

    # every candidate pair of the whole library, as a full run would score it: same weights
    frame = with_term_frequencies(frame, config).with_columns(probe=pl.col("id_key").is_null())
    scored = {}
    for backend in ("duckdb", "spark"):
        pairs, n = score(frame, model, with_backend(config, backend), threshold=1e-9)
        scored[backend] = pairs.sort("record_id_l", "record_id_r")
        assert n > 0
    duck, spark_pairs = scored["duckdb"], scored["spark"]
    assert duck.select("record_id_l", "record_id_r").equals(
        spark_pairs.select("record_id_l", "record_id_r")
    )
    difference = (duck["match_weight"] - spark_pairs["match_weight"]).abs().max()
    assert isinstance(difference, float) and difference < 1e-9
    # among them the pairs that only character-correct comparisons score as close
    names = frame.select("record_id", "name", "name_tone")
    both = duck.join(names, left_on="record_id_l", right_on="record_id").join(
        names, left_on="record_id_r", right_on="record_id", suffix="_r"
    )
    homophones = both.filter(
        (pl.col("name") != pl.col("name_r")) & (pl.col("name_tone") == pl.col("name_tone_r"))
    )
    one_apart = both.filter(
        pl.struct("name", "name_r").map_elements(
            lambda p: (
                p["name"] is not None
                and p["name_r"] is not None
                and len(p["name"]) >= 3
                and cmp.char_distance(p["name"], p["name_r"]) == 1
            ),
            return_dtype=pl.Boolean,
        )
    )
    assert homophones.height > 0 and one_apart.height > 0


def test_link_on_spark_without_java_or_pyspark_says_what_to_do(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    done = gridweave(database_url, "link", "--backend", "spark", ok=False)
    assert done.returncode != 0
    assert "needs a Java runtime" in done.stdout + done.stderr
    assert "--backend duckdb" in done.stdout + done.stderr

    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if not installed
    with pytest.raises(SparkUnavailable, match=r"gridweave\[spark\]"):
        spark_session(parse_config(SPARK).spark)
