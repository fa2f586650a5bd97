"""Clustering keeps valid ids and stewards' decisions; golden ids stay stable."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from gridweave.linkage.clustering import assign_golden_ids, cluster


def seeds(rows: list[tuple[int, str | None]]) -> pl.DataFrame:
    """record_id, key → seeds as a full run makes them (one seed per valid id)."""
    return pl.DataFrame(
        {
            "record_id": [r for r, _ in rows],
            "seed": [f"k{k}" if k else f"r{r}" for r, k in rows],
            "key": [k for _, k in rows],
        },
        schema={"record_id": pl.Int64, "seed": pl.String, "key": pl.String},
    )


def pairs(rows: list[tuple[int, int, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"record_id_l": pl.Int64, "record_id_r": pl.Int64, "match_probability": pl.Float64},
        orient="row",
    )


def groups(result: pl.DataFrame) -> set[frozenset[int]]:
    return {
        frozenset(g) for g in result.group_by("cluster").agg("record_id")["record_id"].to_list()
    }


def test_records_with_one_valid_id_start_together_and_likely_pairs_join() -> None:
    out = cluster(
        seeds([(1, "A"), (2, "A"), (3, None), (4, None)]),
        pairs([(2, 3, 0.999), (3, 4, 0.2)]),
        link=0.99,
        review=0.5,
    )
    assert groups(out.records) == {frozenset({1, 2, 3}), frozenset({4})}
    assert out.auto_links == 1


def test_twins_stay_apart_and_the_idless_record_goes_to_the_likelier_twin() -> None:
    # 3 has no id and looks like both twins (1 and 2), more like 2
    out = cluster(
        seeds([(1, "A"), (2, "B"), (3, None)]),
        pairs([(1, 3, 0.995), (2, 3, 0.999)]),
        link=0.99,
        review=0.5,
    )
    assert groups(out.records) == {frozenset({1}), frozenset({2, 3})}
    assert out.held_apart == 1


def test_uncertain_pairs_go_to_review_once_per_cluster_pair() -> None:
    out = cluster(
        seeds([(1, "A"), (2, None), (3, None)]),
        pairs([(2, 3, 0.999), (1, 2, 0.9), (1, 3, 0.8)]),
        link=0.99,
        review=0.5,
    )
    assert groups(out.records) == {frozenset({1}), frozenset({2, 3})}
    assert out.review.select("record_id", "other_id").rows() == [(1, 2)]


def test_stewards_decisions_win_over_the_model() -> None:
    apart = pl.DataFrame({"record_id": [1], "other_id": [3]})
    together = pl.DataFrame({"record_id": [1], "other_id": [2]})
    out = cluster(
        seeds([(1, "A"), (2, "B"), (3, None), (4, None)]),
        pairs([(1, 3, 0.9999), (3, 4, 0.999), (1, 4, 0.998)]),
        link=0.99,
        review=0.5,
        must_link=together,
        keep_apart=apart,
    )
    # 1 and 2 were linked by a steward despite two ids; 3 may never join 1, and 4 joined 3
    assert groups(out.records) == {frozenset({1, 2}), frozenset({3, 4})}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["A", "B", "C", None]), min_size=2, max_size=12),
    st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11), st.floats(0.5, 1.0)), max_size=40),
)
def test_no_cluster_ever_holds_two_valid_ids(keys: list[str | None], raw: list) -> None:
    n = len(keys)
    edges = [(a % n + 1, b % n + 1, p) for a, b, p in raw if a % n != b % n]
    out = cluster(
        seeds([(i + 1, k) for i, k in enumerate(keys)]), pairs(edges), link=0.9, review=0.5
    )
    frame = out.records.join(
        pl.DataFrame(
            {"record_id": range(1, n + 1), "key": keys}, schema_overrides={"key": pl.String}
        ),
        on="record_id",
    )
    per_cluster = frame.group_by("cluster").agg(pl.col("key").drop_nulls().n_unique())
    assert per_cluster["key"].max() <= 1


def reserve_from(start: int):  # type: ignore[no-untyped-def]
    def reserve(n: int) -> list[int]:
        return list(range(start, start + n))

    return reserve


def current(rows: list[tuple[int, int, int | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"record_id": pl.Int64, "cluster": pl.Int64, "golden_id": pl.Int64},
        orient="row",
    )


def test_a_merge_keeps_the_older_id_and_records_the_newer_one() -> None:
    ids = assign_golden_ids(
        current([(1, 0, 7), (2, 0, 7), (3, 0, 9), (4, 1, None)]), reserve_from(100)
    )
    assert dict(ids.records.rows()) == {1: 7, 2: 7, 3: 7, 4: 100}
    assert ids.merges.rows() == [(9, 7)]
    assert ids.created == [100]


def test_a_split_leaves_the_id_with_the_bigger_part() -> None:
    ids = assign_golden_ids(current([(1, 0, 7), (2, 1, 7), (3, 1, 7)]), reserve_from(100))
    assert dict(ids.records.rows()) == {1: 100, 2: 7, 3: 7}
    assert ids.merges.height == 0


def test_nothing_changes_when_nothing_changed() -> None:
    ids = assign_golden_ids(current([(1, 5, 7), (2, 5, 7), (3, 6, 8)]), reserve_from(100))
    assert dict(ids.records.rows()) == {1: 7, 2: 7, 3: 8}
    assert ids.created == [] and ids.merges.height == 0
