"""Survivorship: choose each golden value from the claims of every source (pure, polars)."""

from __future__ import annotations

import polars as pl

from gridweave.registry.attributes import ATTRIBUTES, EntityType, Survivorship

DEFAULT_PRIORITY = 50


def choose_golden(
    records: pl.DataFrame, entity: EntityType, priorities: pl.DataFrame
) -> pl.DataFrame:
    """One row per entity key: the winning value of every attribute and its source record.

    `records` has id, source_id, observed_at (sortable), entity_key and one String column per
    attribute; `priorities` has source_id, attribute, priority. An attribute whose rule is
    `priority` goes to the most trusted source, then the newest observation; `recency` the other
    way round; the newest record id breaks the last tie. Returns entity_key, sources (how many
    records), the attribute columns, and `provenance` (JSON: attribute → winning record id).
    """
    specs = ATTRIBUTES[entity]
    attrs = [a for a in specs if a in records.columns]
    counts = records.group_by("entity_key").agg(pl.len().alias("sources"))
    long = (
        records.with_columns(pl.col("observed_at").rank("dense").alias("seen"))
        .unpivot(
            index=["id", "source_id", "seen", "entity_key"],
            on=attrs,
            variable_name="attribute",
            value_name="value",
        )
        .drop_nulls("value")
        .join(priorities, on=["source_id", "attribute"], how="left")
        .with_columns(pl.col("priority").fill_null(DEFAULT_PRIORITY))
    )
    recency_first = pl.col("attribute").is_in(
        [a for a in attrs if specs[a].survivorship == Survivorship.recency]
    )
    winners = (
        long.with_columns(
            first=pl.when(recency_first).then(pl.col("seen")).otherwise(pl.col("priority")),
            second=pl.when(recency_first).then(pl.col("priority")).otherwise(pl.col("seen")),
        )
        .sort(
            ["entity_key", "attribute", "first", "second", "id"],
            descending=[False, False, True, True, True],
        )
        .unique(["entity_key", "attribute"], keep="first", maintain_order=True)
    )
    if winners.height == 0:
        return counts.with_columns(pl.lit("{}").alias("provenance"))
    values = winners.pivot(on="attribute", index="entity_key", values="value")
    ids = winners.pivot(on="attribute", index="entity_key", values="id")
    provenance = ids.select(
        "entity_key",
        pl.struct([c for c in ids.columns if c != "entity_key"])
        .struct.json_encode()
        .str.replace_all(r'"[A-Za-z_0-9]+":null,?', "")
        .str.replace(r",\}$", "}")
        .alias("provenance"),
    )
    missing = [pl.lit(None, dtype=pl.String).alias(a) for a in attrs if a not in values.columns]
    return (
        counts.join(values, on="entity_key", how="left")
        .join(provenance, on="entity_key", how="left")
        .with_columns(missing)
        .select(["entity_key", "sources", *attrs, "provenance"])
    )
