"""The deterministic pass links on valid ids unless name and birth date both disagree."""

from __future__ import annotations

import polars as pl

from gridweave.linkage.deterministic import id_groups, names_agree
from gridweave.linkage.evaluate import pairwise_quality


def records(rows: list[tuple[int, str | None, str, str, str | None, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "record_id": pl.Int64,
            "id_key": pl.String,
            "name": pl.String,
            "name_py": pl.String,
            "birth_date": pl.String,
            "priority": pl.Int64,
        },
        orient="row",
    )


def test_same_id_links_unless_name_and_birth_date_both_disagree() -> None:
    out = id_groups(
        records(
            [
                (1, "K", "张伟", "zhang wei", "1985-03-02", 100),  # police: the anchor
                (2, "K", "张玮", "zhang wei", "1985-03-02", 30),  # homophone typo
                (3, "K", "张伟", "zhang wei", "1990-01-01", 30),  # same name, other date
                (4, "K", "李娜", "li na", None, 30),  # other name, no date: not clear
                (5, "K", "李娜", "li na", "1990-01-01", 30),  # clearly someone else
                (6, None, "王芳", "wang fang", "1970-01-01", 30),
            ]
        )
    )
    assert sorted(out.keyed["record_id"]) == [1, 2, 3, 4]
    assert out.conflicts.rows() == [(5, 1, "K")]


def test_names_agree() -> None:
    assert names_agree("张伟明", "张玮明", "zhang wei ming", "zhang wei ming")
    assert names_agree("张伟明", "张伟", None, None)  # one character left out
    assert not names_agree("张伟明", "李娜", "zhang wei ming", "li na")
    assert names_agree(None, "李娜", None, "li na")


def test_pairwise_quality_counts_pairs() -> None:
    linked = pl.DataFrame(
        {
            "record_id": [1, 2, 3, 4, 5],
            "golden_id": [10, 10, 10, 20, None],
            "entity_id": ["P1", "P1", "P2", "P2", "P2"],
        }
    )
    q = pairwise_quality(linked, "person")
    # true pairs: (1,2), (3,4), (3,5), (4,5); linked: (1,2), (1,3), (2,3); correct: (1,2)
    assert (q.true_pairs, q.linked_pairs, q.correct_pairs) == (4, 3, 1)
    assert round(q.precision, 4) == 0.3333 and q.recall == 0.25
