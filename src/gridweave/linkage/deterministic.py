"""The deterministic pass: records carrying one valid citizen id are one person (pure, polars).

Unless they clearly disagree. A record whose name AND birth date both differ from its id's
anchor record (the most trusted source's) is not merged on the id: it goes to a steward, since
the id may be someone else's (a relative's, copied by a clerk).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from gridweave.linkage.comparisons import char_distance


@dataclass(frozen=True)
class IdGroups:
    """The outcome of the deterministic pass."""

    keyed: pl.DataFrame  # record_id, id_key: records linked on their valid id
    conflicts: pl.DataFrame  # record_id, anchor_id, id_key: same id, clearly someone else


def names_agree(a: str | None, b: str | None, a_py: str | None, b_py: str | None) -> bool:
    """Same name, same pinyin (a homophone typo) or one character apart; missing agrees."""
    if a is None or b is None or a == b:
        return True
    if a_py is not None and a_py == b_py:
        return True
    return char_distance(a, b) <= 1


def id_groups(records: pl.DataFrame) -> IdGroups:
    """Split the records with a valid id into those linked on it and the conflicts.

    `records` has record_id, id_key, name, name_py, birth_date and priority (how much its
    source is trusted on names: the anchor of an id is its most trusted record, then the first).
    """
    keyed = records.filter(pl.col("id_key").is_not_null())
    anchors = (
        keyed.sort(["priority", "record_id"], descending=[True, False])
        .unique("id_key", keep="first")
        .select(
            "id_key",
            pl.col("record_id").alias("anchor_id"),
            pl.col("name").alias("a_name"),
            pl.col("name_py").alias("a_py"),
            pl.col("birth_date").alias("a_birth"),
        )
    )
    joined = keyed.join(anchors, on="id_key")
    births_differ = (
        pl.col("birth_date").is_not_null()
        & pl.col("a_birth").is_not_null()
        & (pl.col("birth_date") != pl.col("a_birth"))
    )
    cheap_agree = (
        pl.col("name").is_null()
        | pl.col("a_name").is_null()
        | (pl.col("name") == pl.col("a_name"))
        | (pl.col("name_py") == pl.col("a_py"))
    )
    doubtful = joined.filter(births_differ & ~cheap_agree)
    disagree = [
        not names_agree(n, a, p, ap)
        for n, a, p, ap in doubtful.select("name", "a_name", "name_py", "a_py").iter_rows()
    ]
    conflicts = doubtful.filter(pl.Series(disagree, dtype=pl.Boolean)).select(
        "record_id", "anchor_id", "id_key"
    )
    linked = joined.join(conflicts, on="record_id", how="anti").select("record_id", "id_key")
    return IdGroups(keyed=linked, conflicts=conflicts)
