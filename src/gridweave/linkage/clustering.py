"""Scored pairs → clusters of records → golden ids that stay stable (pure: polars and numpy).

Pairs are taken from the most likely down, and a pair never joins two clusters that hold
different valid citizen ids, nor two records a steward kept apart: an id-less record that looks
like both twins goes to the one it resembles most, and the twins stay two people.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class Clusters:
    """Which cluster each record is in, and what the pairs did."""

    records: pl.DataFrame  # record_id, cluster (an integer label)
    auto_links: int  # pairs that joined two clusters
    held_apart: int  # likely pairs refused: different valid ids, or a steward's decision
    review: pl.DataFrame  # record_id, other_id, match_probability: uncertain, still apart


def cluster(
    seeds: pl.DataFrame,
    pairs: pl.DataFrame,
    *,
    link: float,
    review: float,
    must_link: pl.DataFrame | None = None,
    keep_apart: pl.DataFrame | None = None,
) -> Clusters:
    """Cluster records.

    `seeds`: record_id, seed (records sharing a seed start together: one valid id, one existing
    golden record), key (the valid id a record brings to its cluster, or null).
    `pairs`: record_id_l, record_id_r, match_probability. `must_link` and `keep_apart`:
    record_id, other_id pairs a steward decided.
    """
    seeds = seeds.with_columns(pl.col("seed").rank("dense").cast(pl.Int64).alias("node") - 1)
    n = seeds["node"].n_unique() if seeds.height else 0
    parent = np.arange(n, dtype=np.int64)
    node_of = dict(zip(seeds["record_id"].to_list(), seeds["node"].to_list(), strict=True))

    keys: dict[int, set[str]] = {}
    for node, key in (
        seeds.filter(pl.col("key").is_not_null()).select("node", "key").unique().iter_rows()
    ):
        keys.setdefault(node, set()).add(key)
    forbid: dict[int, set[int]] = {}  # node → nodes it may never share a cluster with
    for a, b in _decided(keep_apart, node_of):
        forbid.setdefault(a, set()).add(b)
        forbid.setdefault(b, set()).add(a)

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = int(parent[root])
        while parent[x] != root:  # path compression
            parent[x], x = root, int(parent[x])
        return root

    def union(ra: int, rb: int) -> None:
        parent[rb] = ra
        if rb in keys:
            keys.setdefault(ra, set()).update(keys.pop(rb))
        if rb in forbid:
            forbid.setdefault(ra, set()).update(forbid.pop(rb))

    def allowed(ra: int, rb: int) -> bool:
        if keys.get(ra) and keys.get(rb):
            return False
        return not any(find(x) == rb for x in forbid.get(ra, ())) and not any(
            find(x) == ra for x in forbid.get(rb, ())
        )

    for a, b in _decided(must_link, node_of):
        ra, rb = find(a), find(b)
        if ra != rb:
            union(ra, rb)

    ordered = pairs.sort(
        ["match_probability", "record_id_l", "record_id_r"], descending=[True, False, False]
    )
    auto_links = held_apart = 0
    uncertain: list[tuple[int, int, float]] = []
    for a, b, p in ordered.select("record_id_l", "record_id_r", "match_probability").iter_rows():
        if p < review:
            break
        na, nb = node_of.get(a), node_of.get(b)
        if na is None or nb is None:
            continue
        ra, rb = find(na), find(nb)
        if ra == rb:
            continue
        if p < link:
            uncertain.append((a, b, p))
        elif allowed(ra, rb):
            union(ra, rb)
            auto_links += 1
        else:
            held_apart += 1

    roots = np.array([find(i) for i in range(n)], dtype=np.int64) if n else np.array([], np.int64)
    records = seeds.select(
        "record_id", pl.Series("cluster", roots).gather(seeds["node"]).alias("cluster")
    )
    return Clusters(records, auto_links, held_apart, _open_pairs(uncertain, node_of, find))


def _decided(decisions: pl.DataFrame | None, node_of: dict[int, int]) -> list[tuple[int, int]]:
    if decisions is None:
        return []
    return [
        (node_of[a], node_of[b])
        for a, b in decisions.select("record_id", "other_id").iter_rows()
        if a in node_of and b in node_of
    ]


def _open_pairs(
    uncertain: list[tuple[int, int, float]],
    node_of: dict[int, int],
    find: Callable[[int], int],
) -> pl.DataFrame:
    """The most likely uncertain pair between each two clusters that stayed apart."""
    best: dict[tuple[int, int], tuple[int, int, float]] = {}
    for a, b, p in uncertain:
        ra, rb = find(node_of[a]), find(node_of[b])
        if ra == rb:
            continue
        key = (min(ra, rb), max(ra, rb))
        if key not in best:  # pairs arrive most likely first
            best[key] = (min(a, b), max(a, b), p)
    rows = list(best.values())
    return pl.DataFrame(
        rows,
        schema={"record_id": pl.Int64, "other_id": pl.Int64, "match_probability": pl.Float64},
        orient="row",
    )


@dataclass(frozen=True)
class GoldenIds:
    """The golden id of every cluster, and what changed."""

    records: pl.DataFrame  # record_id, golden_id (final)
    created: list[int]  # ids given to clusters that had none
    merges: pl.DataFrame  # from_id, into_id: golden records retired into another


def assign_golden_ids(records: pl.DataFrame, reserve: Callable[[int], list[int]]) -> GoldenIds:
    """Keep ids stable: each cluster keeps the oldest golden id among its records' current ones.

    `records`: record_id, cluster, golden_id (current, or null). A golden id goes to one cluster
    only, the one holding most of its records when several do (a split); a cluster without an
    id gets one from `reserve(n)`; an id no cluster kept is a merge into the cluster holding most
    of its records.
    """
    held = (
        records.filter(pl.col("golden_id").is_not_null())
        .group_by("cluster", "golden_id")
        .len()
        .sort(["golden_id", "len", "cluster"], descending=[False, True, False])
    )
    taken_ids: set[int] = set()
    given: dict[int, int] = {}
    for cluster_id, golden_id, _ in held.iter_rows():
        if golden_id in taken_ids or cluster_id in given:
            continue
        taken_ids.add(golden_id)
        given[cluster_id] = golden_id
    clusters = records["cluster"].unique().sort().to_list()
    without = [c for c in clusters if c not in given]
    created = reserve(len(without)) if without else []
    given.update(zip(without, created, strict=True))
    mapping = pl.DataFrame(
        {"cluster": list(given), "final": list(given.values())},
        schema={"cluster": records.schema["cluster"], "final": pl.Int64},
    )
    retired = (
        held.filter(~pl.col("golden_id").is_in(list(taken_ids)))
        .sort(["golden_id", "len", "cluster"], descending=[False, True, False])
        .unique("golden_id", keep="first", maintain_order=True)
        .join(mapping, on="cluster")
        .select(pl.col("golden_id").alias("from_id"), pl.col("final").alias("into_id"))
    )
    final = records.join(mapping, on="cluster").select(
        "record_id", pl.col("final").alias("golden_id")
    )
    return GoldenIds(final, created, retired)
