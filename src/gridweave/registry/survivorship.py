"""Survivorship: choose each golden value from the claims of every source (pure, polars)."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
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
    records), the attribute columns, and `provenance` (JSON: attribute → winning record id;
    `{"*": id}` for a key with one claim, whose every value is that record's: `chosen_records`).
    """
    specs = ATTRIBUTES[entity]
    attrs = [a for a in specs if a in records.columns]
    counts = records.group_by("entity_key").agg(pl.len().alias("sources"))
    # A key with one claim (every key on a first load) needs no contest: its claim is golden.
    single = counts.filter(pl.col("sources") == 1).select("entity_key")
    alone = records.join(single, on="entity_key", how="semi")
    contested = records.join(single, on="entity_key", how="anti")
    uncontested = alone.select(
        "entity_key",
        pl.lit(1, pl.UInt32).alias("sources"),
        *attrs,
        sole_provenance(pl.col("id")),
    )
    if contested.height == 0:
        return uncontested
    return pl.concat(
        [uncontested, _contest(contested, attrs, specs, priorities)], how="vertical_relaxed"
    )


EVERY_ATTRIBUTE = "*"  # provenance of a golden record whose every value one record gave


def sole_provenance(record_id: pl.Expr) -> pl.Expr:
    """`{"*": id}`: every value of the golden record is this one record's. A first load makes
    one such record per entity; naming each attribute instead took a third of a golden person
    row (211 bytes) and 1-2.5 s of a million-row ingest (decision 0007)."""
    head = f'{{"{EVERY_ATTRIBUTE}":'
    return (pl.lit(head) + record_id.cast(pl.String) + pl.lit("}")).alias("provenance")


def chosen_records(
    provenance: Mapping[str, int] | None, values: Mapping[str, object]
) -> dict[str, int]:
    """attribute → the source record whose value a golden record holds, from its stored
    `provenance` and its `values` (attribute → golden value): a `{"*": id}` provenance names
    the record of every attribute that has a value."""
    provenance = provenance or {}
    if EVERY_ATTRIBUTE not in provenance:
        return dict(provenance)
    record = provenance[EVERY_ATTRIBUTE]
    return {attr: record for attr, value in values.items() if value is not None}


def provenance_json(ids: list[pl.Expr]) -> pl.Expr:
    """A JSON object attribute → source record id, leaving out attributes without a value.

    The ids are integers, whose JSON is their decimal text: no encoder needed (a third of the
    time `json_object` takes), and the same text."""
    members = [
        pl.lit(orjson.dumps(str(i.meta.output_name())).decode() + ":") + i.cast(pl.String)
        for i in ids
    ]
    return json_join(members).alias("provenance")


def json_object(members: list[pl.Expr]) -> pl.Expr:
    """Each row's non-null `members` as a compact JSON object named by their output names, in
    order: the text polars writes for their struct, less its `"name":null` members."""
    return json_join(json_members(members))


def json_members(members: list[pl.Expr]) -> list[pl.Expr]:
    """Each member as its `"name":value` text, null where the value is null: `json_join`
    makes an object of them.

    Each member is encoded on its own (by polars, so escaped exactly as in a struct): no pass
    over the whole text to take the nulls out again, and two objects sharing members (a
    record's stored and hashed values) can encode those once.
    """
    parts: list[pl.Expr] = []
    for member in members:
        name = str(member.meta.output_name())
        # '{"name":' as polars spells the name (escaped as it escapes it)
        empty = pl.select(pl.struct(pl.lit(None).alias(name)).struct.json_encode()).item()
        head = empty.removesuffix("null}")
        value = pl.struct(member).struct.json_encode().str.strip_prefix(head).str.strip_suffix("}")
        parts.append(pl.when(member.is_not_null()).then(pl.lit(head[1:]) + value))
    return parts


def json_join(members: list[pl.Expr]) -> pl.Expr:
    """The JSON object of `json_members`' texts (nulls left out), in order."""
    if not members:
        return pl.lit("{}", dtype=pl.String)
    return pl.lit("{") + pl.concat_str(members, separator=",", ignore_nulls=True) + pl.lit("}")


def _contest(
    records: pl.DataFrame, attrs: list[str], specs: dict, priorities: pl.DataFrame
) -> pl.DataFrame:
    """Keys claimed by several records: rank every claim by the attribute's rule."""
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
        return counts.with_columns(
            *[pl.lit(None, pl.String).alias(a) for a in attrs], pl.lit("{}").alias("provenance")
        ).select(["entity_key", "sources", *attrs, "provenance"])
    values = winners.pivot(on="attribute", index="entity_key", values="value")
    ids = winners.pivot(on="attribute", index="entity_key", values="id")
    provenance = ids.select(
        "entity_key", provenance_json([pl.col(c) for c in ids.columns if c != "entity_key"])
    )
    missing = [pl.lit(None, dtype=pl.String).alias(a) for a in attrs if a not in values.columns]
    return (
        counts.join(values, on="entity_key", how="left")
        .join(provenance, on="entity_key", how="left")
        .with_columns(missing)
        .select(["entity_key", "sources", *attrs, "provenance"])
    )
