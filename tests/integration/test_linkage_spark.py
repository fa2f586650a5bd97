"""The Spark backend gives the same links as DuckDB: level by level, pair by pair, and clusters.

One local Spark session serves every test here (the `spark` fixture in tests/conftest.py);
they skip only when no Java runtime is found.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, select

from gridweave.core.database import make_engine, migrate, transaction
from gridweave.linkage import comparisons as cmp
from gridweave.linkage import store
from gridweave.linkage.config import parse_config, with_backend
from gridweave.linkage.features import comparison_frame
from gridweave.linkage.models import LinkageRun
from gridweave.linkage.probabilistic import score, with_term_frequencies
from gridweave.linkage.reports import links
from gridweave.linkage.service import link_people
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


def spark_level_of(
    spark: Any, comparison: cmp.Comparison, left: pl.DataFrame, right: pl.DataFrame
) -> list[str]:
    """level_of, in Spark SQL."""
    pairs = (
        pl.concat(
            [left.rename(lambda c: f"{c}_l"), right.rename(lambda c: f"{c}_r")], how="horizontal"
        )
        .with_row_index("i")
        .with_columns(pl.col("i").cast(pl.Int64))
    )
    spark.createDataFrame(pairs.to_arrow()).createOrReplaceTempView("gw_level_pairs")
    cases = " ".join(
        f"WHEN {lv['sql_condition']} THEN '{lv['label_for_charts']}'"
        for lv in comparison["comparison_levels"]
        if lv["sql_condition"] != "ELSE"
    )
    rows = spark.sql(
        f"SELECT CASE {cases} ELSE 'different' END AS label FROM gw_level_pairs ORDER BY i"
    ).collect()
    return [r["label"] for r in rows]


def test_every_level_falls_alike_on_spark_and_duckdb(spark: Any) -> None:
    cid = "440303198503020011"
    swapped = cid[:10] + cid[11] + cid[10] + cid[12:]
    left = features(
        name=["张伟明", "张伟明", "欧阳娜娜", "张伟", "李卫明", "王建国", "张伟", None],
        birth_date=["1985-03-02"] * 4 + ["1985-03-02", "1985-03-02", "1990-01-01", None],
        citizen_id=[cid, cid, cid, cid, cid, None, cid, cid],
        phone=["13800138000"] * 8,
        residence_address=["罗湖区桂园路1号1栋1单元1103"] * 8,
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
    )
    config = parse_config(SPARK)
    duck = {c["output_column_name"]: c for c in cmp.comparisons(config, "duckdb")}
    for comparison in cmp.comparisons(config, "spark"):
        name = comparison["output_column_name"]
        expected = level_of(duck[name], left, right)
        assert spark_level_of(spark, comparison, left, right) == expected, name
        # the pairs reach the levels that need character-correct comparisons
        if name == "name":
            assert expected[:3] == [
                "same pinyin with tones (homophone)",
                "one character apart",
                "one character apart",
            ]
        if name == "citizen_id":
            assert expected[1:3] == ["one edit apart", "two edits apart"]


def test_custom_comparisons_in_duckdb_sql_run_on_spark(spark: Any) -> None:
    config = parse_config(
        SPARK
        + """
person:
  custom_comparisons:
    - name: hukou_building
      levels:
        - {label: missing, sql: "hukou_building_key_l IS NULL OR hukou_building_key_r IS NULL", "null": true}
        - {label: given pinyin close, sql: "jaro_winkler_similarity(given_py_l, given_py_r) > 0.8 AND list_has_any(room_keys_l, room_keys_r)"}
        - {label: different, sql: ELSE}
"""  # noqa: E501
    )
    custom = cmp.comparisons(config, "spark")[-1]
    assert "arrays_overlap" in custom["comparison_levels"][1]["sql_condition"]
    left = features(name=["张伟明", "张伟明"], hukou_address=["罗湖区桂园路1号1栋1单元1103"] * 2)
    right = features(
        name=["张玮民", "赵强"],
        hukou_address=["罗湖区桂园路1号1栋1单元1103", "罗湖区桂园路1号1栋1单元1103"],
    )
    duck = cmp.comparisons(config, "duckdb")[-1]
    assert spark_level_of(spark, custom, left, right) == level_of(duck, left, right)


def full_then_one_more(engine: Engine, folder: Path, backend: str) -> tuple[pl.DataFrame, int]:
    """A full DuckDB run without the last extract, then the last one linked on `backend`."""
    ingest_city(engine, folder, skip={LAST})
    link_people(engine, actor="test", config=with_backend(parse_config(SPARK), "duckdb"))
    ingest_one(engine, folder, LAST)
    report = link_people(engine, actor="test", config=with_backend(parse_config(SPARK), backend))
    assert report.mode == "incremental" and report.records_new > 0
    return clusters(engine), report.pairs_scored


def clusters(engine: Engine) -> pl.DataFrame:
    """Each person record's fellow records (by the departments' keys), not the golden ids."""
    with transaction(engine) as session:
        linked = links(session, "person")
    return (
        linked.group_by("golden_id")
        .agg(pl.col("record_key").sort().alias("cluster"))
        .select(pl.col("cluster").list.join(" ").alias("cluster"))
        .sort("cluster")
    )


@cache
def duckdb_reference(folder: Path) -> tuple[pl.DataFrame, int]:
    """The same runs, all on DuckDB, in a database of their own (once per test session)."""
    engine = make_engine(f"sqlite:///{folder / 'duckdb-reference.sqlite'}")
    migrate(engine)
    try:
        return full_then_one_more(engine, folder, "duckdb")
    finally:
        engine.dispose()


def test_an_extract_linked_on_spark_gives_the_links_duckdb_gives(
    engine: Engine, folder: Path, spark: Any
) -> None:
    on_spark, scored = full_then_one_more(engine, folder, "spark")
    expected, expected_scored = duckdb_reference(folder)
    assert scored == expected_scored > 0
    assert on_spark.height == expected.height
    assert on_spark.equals(expected)


def test_every_candidate_pair_scores_alike_on_both(
    engine: Engine, folder: Path, spark: Any
) -> None:
    ingest_city(engine, folder)
    link_people(engine, actor="test", config=parse_config(""))
    with transaction(engine) as session:
        model = session.scalars(select(LinkageRun.model)).one()
        frame = comparison_frame(store.load_features(session))
    config = parse_config(SPARK)
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


def test_spark_without_java_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(SparkUnavailable, match="Java runtime") as raised:
        spark_session(parse_config(SPARK).spark)
    assert "JAVA_HOME" in str(raised.value)


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
