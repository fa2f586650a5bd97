"""Golden people from linked source records, and where departments disagree (pure, polars).

Survivorship is the registry's (the contracts' declared rules); what linkage adds is which
records belong together, and which one citizen id each golden person owns.
"""

from __future__ import annotations

import polars as pl

from gridweave.registry.attributes import ATTRIBUTES, EntityType
from gridweave.registry.survivorship import choose_golden

PERSON_ATTRS = list(ATTRIBUTES[EntityType.person])


def owned_keys(records: pl.DataFrame, conflicts: pl.Series | None = None) -> pl.DataFrame:
    """golden_id, key: the valid id each golden person owns.

    `records`: golden_id, own_key (a record's valid id). A golden person owns the id most of its
    records carry (records held apart from their id's owner, `conflicts`, do not count); an id
    carried by several golden people goes to the one with most of its records.
    """
    keyed = records.filter(pl.col("own_key").is_not_null())
    if conflicts is not None:
        keyed = keyed.filter(~pl.col("id").is_in(conflicts.implode()))
    counts = keyed.group_by("golden_id", "own_key").len()
    best = counts.sort(["own_key", "len", "golden_id"], descending=[False, True, False]).unique(
        "own_key", keep="first", maintain_order=True
    )
    return (
        best.sort(["golden_id", "len", "own_key"], descending=[False, True, False])
        .unique("golden_id", keep="first", maintain_order=True)
        .select("golden_id", pl.col("own_key").alias("key"))
    )


def golden_people(
    claims: pl.DataFrame, owners: pl.DataFrame, priorities: pl.DataFrame
) -> pl.DataFrame:
    """One row per golden person: id, every attribute, provenance (JSON) and sources.

    `claims`: id, source_id, observed_at, golden_id, own_key and the attributes (linkage.store);
    `owners`: golden_id, key. Only a record carrying the owned id may claim the citizen id, so a
    mistyped id never becomes the golden one.
    """
    frame = (
        claims.join(owners, on="golden_id", how="left")
        .with_columns(
            pl.col("golden_id").cast(pl.String).alias("entity_key"),
            pl.when(pl.col("own_key") == pl.col("key")).then(pl.col("key")).alias("citizen_id"),
        )
        .drop("own_key", "key")
    )
    pri = priorities.filter(pl.col("entity_type") == EntityType.person.value).drop("entity_type")
    golden = choose_golden(frame, EntityType.person, pri)
    missing = [pl.lit(None, pl.String).alias(a) for a in PERSON_ATTRS if a not in golden.columns]
    return golden.with_columns(missing).select(
        pl.col("entity_key").cast(pl.Int64).alias("id"), *PERSON_ATTRS, "provenance", "sources"
    )


def conflicts(claims: pl.DataFrame) -> pl.DataFrame:
    """golden_id, attribute, source_a, source_b: two sources claim different values."""
    attrs = [a for a in PERSON_ATTRS if a in claims.columns]
    long = (
        claims.select("golden_id", "source_id", *attrs)
        .unpivot(index=["golden_id", "source_id"], variable_name="attribute", value_name="value")
        .drop_nulls("value")
        .unique()
    )
    contested = long.filter(pl.col("value").n_unique().over("golden_id", "attribute") > 1)
    pairs = contested.join(contested, on=["golden_id", "attribute"], suffix="_b").filter(
        (pl.col("source_id") < pl.col("source_id_b")) & (pl.col("value") != pl.col("value_b"))
    )
    return pairs.select(
        "golden_id",
        "attribute",
        pl.col("source_id").alias("source_a"),
        pl.col("source_id_b").alias("source_b"),
    ).unique()


def disagreements(claims: pl.DataFrame) -> pl.DataFrame:
    """attribute, value, sources (source ids), for attributes claimed with several values."""
    attrs = [a for a in PERSON_ATTRS if a in claims.columns]
    long = claims.select("source_id", *attrs).unpivot(
        index="source_id", variable_name="attribute", value_name="value"
    )
    return (
        long.drop_nulls("value")
        .filter(pl.col("value").n_unique().over("attribute") > 1)
        .group_by("attribute", "value")
        .agg(pl.col("source_id").unique().sort().alias("sources"))
        .sort("attribute", "value")
    )


def conflict_counts(pairs: pl.DataFrame) -> pl.DataFrame:
    """source_a, source_b, attribute, golden: how many golden people they disagree on."""
    return (
        pairs.group_by("source_a", "source_b", "attribute")
        .agg(pl.col("golden_id").n_unique().alias("golden"))
        .sort("golden", "source_a", "source_b", "attribute", descending=[True, False, False, False])
    )
