"""Comparisons are character-correct: Chinese text never meets a byte-counting distance."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridweave.linkage import comparisons as cmp
from gridweave.linkage.config import ConfigError, load_config, parse_config
from gridweave.linkage.features import comparison_frame, person_features

HANZI = st.sampled_from(list("张王李伟玮明强芳娜静丽欧阳司马诸葛一二三"))


def features(**values: list[str | None]) -> pl.DataFrame:
    n = len(next(iter(values.values())))
    records = pl.DataFrame(
        {"record_id": list(range(1, n + 1)), "entity_key": [None] * n, **values},
        schema_overrides={"entity_key": pl.String},
    )
    return comparison_frame(person_features(records))


def level_of(comparison: cmp.Comparison, left: pl.DataFrame, right: pl.DataFrame) -> list[str]:
    """The label of the level each pair (row i of left, row i of right) falls into, in DuckDB."""
    con = duckdb.connect()
    pairs = pl.concat(
        [left.rename(lambda c: f"{c}_l"), right.rename(lambda c: f"{c}_r")], how="horizontal"
    )
    con.register("pairs", pairs.to_arrow())
    cases = " ".join(
        f"WHEN {lv['sql_condition']} THEN '{lv['label_for_charts']}'"
        for lv in comparison["comparison_levels"]
        if lv["sql_condition"] != "ELSE"
    )
    rows = con.execute(f"SELECT CASE {cases} ELSE 'different' END FROM pairs").fetchall()
    return [r[0] for r in rows]


def test_a_homophone_typo_is_its_own_level() -> None:
    left = features(name=["张伟明", "张伟明", "欧阳娜娜", "张伟"])
    right = features(name=["张玮明", "张伟强", "欧阳娜", "张强"])
    assert level_of(cmp.name(), left, right) == [
        "same pinyin with tones (homophone)",
        "one character apart",
        "one character apart",
        "same surname",
    ]


def test_birth_dates_exact_transposed_one_digit_and_near() -> None:
    left = features(birth_date=["1985-03-02", "1985-03-02", "1985-03-02", "1985-03-02", None])
    right = features(birth_date=["1985-03-02", "1985-02-03", "1985-03-09", "1985-03-20", "1985"])
    assert level_of(cmp.birth_date(), left, right) == [
        "same day",
        "day and month transposed",
        "one digit apart",
        "within 31 days",
        "missing",
    ]


def test_ids_one_or_two_edits_apart() -> None:
    cid = "440303198503020011"
    swapped = cid[:10] + cid[11] + cid[10] + cid[12:]
    left = features(citizen_id=[cid, cid, cid, cid])
    right = features(citizen_id=[cid, swapped, cid[:5] + "99" + cid[7:], "110101199001011234"])
    assert level_of(cmp.citizen_id(), left, right) == [
        "same id",
        "one edit apart",
        "two edits apart",
        "different",
    ]


def test_addresses_by_room_and_building_whatever_the_spelling() -> None:
    left = features(
        residence_address=["罗湖区桂园路1号1栋1单元1103", "罗湖区桂园路1号1栋1单元1103"]
    )
    right = features(
        hukou_address=["深圳市罗湖区桂园路1号1座1单元1103室", "罗湖区桂园路1号1栋2单元805"]
    )
    assert level_of(cmp.address(), left, right) == ["same room", "same building"]


@settings(max_examples=200, deadline=None)
@given(st.text(HANZI, min_size=3, max_size=5), st.text(HANZI, min_size=3, max_size=5))
def test_name_variants_meet_when_names_are_one_character_apart(a: str, b: str) -> None:
    frame = features(name=[a, b])
    left, right = frame["name_variants"].to_list()
    shared = bool(set(left) & set(right))
    if cmp.char_distance(a, b) <= 1:
        assert shared
    if shared:  # at most one character left out on each side
        assert cmp.char_distance(a, b) <= 2


@given(st.text(HANZI, min_size=1, max_size=4))
def test_pinyin_columns_are_always_ascii(name: str) -> None:
    row = features(name=[name + "·买买提"]).row(0, named=True)
    assert all(row[c] is None or row[c].isascii() for c in ("name_py", "name_tone", "given_py"))


def test_levenshtein_on_a_chinese_column_is_refused() -> None:
    text = """
person:
  custom_comparisons:
    - name: given
      levels:
        - {label: close, sql: "levenshtein(name_l, name_r) <= 1"}
        - {label: other, sql: ELSE}
"""
    with pytest.raises(ConfigError, match="counts bytes"):
        parse_config(text)
    ok = text.replace("levenshtein(name_l, name_r)", "levenshtein(name_py_l, name_py_r)")
    assert parse_config(ok).person.custom_comparisons[0].name == "given"


def test_unknown_comparisons_options_and_columns_are_refused() -> None:
    for text, problem in [
        ("person: {comparisons: [nickname]}", "unknown comparison 'nickname'"),
        ("person: {comparisons: [{name: {fuzzy: 1}}]}", "unknown option 'fuzzy'"),
        ("person: {blocking: [[shoe_size]]}", "unknown column 'shoe_size'"),
        ("person: {thresholds: {link: 0.4, review: 0.6}}", "must not be above"),
    ]:
        with pytest.raises(ConfigError, match=problem):
            parse_config(text)


def test_defaults_and_overrides() -> None:
    default = load_config()
    assert [n for n, _ in default.person.comparison_options] == list(cmp.BUILTINS)
    custom = parse_config("person: {comparisons: [name, phone], blocking: [[phone]]}")
    assert [c["output_column_name"] for c in cmp.comparisons(custom)] == ["name", "phone"]
    assert custom.person.thresholds == default.person.thresholds  # the rest stays default
    assert custom.fingerprint != default.fingerprint


def test_one_definition_spelled_for_each_dialect() -> None:
    from splink.internals.dialects import SplinkDialect

    config = load_config()
    duck, spark = cmp.comparisons(config, "duckdb"), cmp.comparisons(config, "spark")
    assert cmp.comparisons(config) == duck
    for d, s in zip(duck, spark, strict=True):
        assert d["output_column_name"] == s["output_column_name"]
        strip = [
            {k: v for k, v in lv.items() if k != "sql_condition"} for lv in d["comparison_levels"]
        ]
        assert strip == [
            {k: v for k, v in lv.items() if k != "sql_condition"} for lv in s["comparison_levels"]
        ]
    spark_sql = " ".join(lv["sql_condition"] for c in spark for lv in c["comparison_levels"])
    for duckdb_only in ("list_has_any", "len(", "jaro_winkler_similarity"):
        assert duckdb_only not in spark_sql
    # the distances have the names Splink's own dialects give them
    for name, dialect in cmp.DIALECTS.items():
        splink = SplinkDialect.from_string(name)
        assert (dialect.levenshtein, dialect.damerau_levenshtein, dialect.jaro_winkler) == (
            splink.levenshtein_function_name,
            splink.damerau_levenshtein_function_name,
            splink.jaro_winkler_function_name,
        )


def test_the_backend_comes_from_the_configuration_or_the_command_line() -> None:
    from gridweave.linkage.config import with_backend

    assert load_config().backend == "duckdb"
    spark = parse_config("backend: spark\nspark: {master: 'local[2]', conf: {spark.x: 4}}")
    assert (spark.backend, spark.spark.master, spark.spark.conf) == (
        "spark",
        "local[2]",
        {"spark.x": 4},
    )
    assert with_backend(spark, "duckdb").backend == "duckdb"
    assert with_backend(spark, "duckdb").spark == spark.spark
    with pytest.raises(ConfigError, match="backend"):
        parse_config("backend: postgres")


def test_a_model_trained_on_one_backend_scores_on_the_other() -> None:
    from gridweave.linkage.probabilistic import in_dialect

    config = load_config()
    duck_model = {"sql_dialect": "duckdb", "comparisons": cmp.comparisons(config, "duckdb")}
    duck_model["comparisons"][0]["comparison_levels"][1]["m_probability"] = 0.7
    spark = parse_config("backend: spark")
    moved = in_dialect(duck_model, spark)
    assert moved["sql_dialect"] == "spark"
    assert moved["comparisons"][0]["comparison_levels"][1]["m_probability"] == 0.7
    assert [c["comparison_levels"] for c in moved["comparisons"]] != [
        c["comparison_levels"] for c in duck_model["comparisons"]
    ]
    assert in_dialect(moved, config)["comparisons"] == duck_model["comparisons"]
    other = parse_config("backend: spark\nperson: {comparisons: [name, phone]}")
    with pytest.raises(ConfigError, match="birth_date"):
        in_dialect(duck_model, other)
