"""The probabilistic pass: Fellegi–Sunter with Splink 5, on an in-memory DuckDB or on Spark.

Training uses no labels: u from random pairs, m by expectation maximisation, λ from the pairs
that share a valid id (counted here: Splink's own estimate divides by zero on a tiny library).
Scoring takes the candidate pairs this module blocks itself — pairs that share a blocking key,
where one side is a probe (a record without a valid id in a full run, a new record in an
incremental one) and one side has no valid id (two valid ids decide by themselves) — and hands
them to Splink to score. The backend (`config.backend`) decides only where the SQL runs: the
comparisons come from one definition spelled per dialect, and the blocking SQL is the same.
"""

from __future__ import annotations

import copy
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import duckdb
import polars as pl

from gridweave.linkage.comparisons import comparisons, tf_columns
from gridweave.linkage.config import ConfigError, LinkageConfig

if TYPE_CHECKING:
    from splink.internals.splink_dataframe import SplinkDataFrame

SPLINK_LOG = logging.ERROR
PAIR_COLUMNS: dict[str, pl.DataType] = {
    "record_id_l": pl.Int64(),
    "record_id_r": pl.Int64(),
    "match_probability": pl.Float64(),
    "match_weight": pl.Float64(),
}


def run(con: duckdb.DuckDBPyConnection, sql: str) -> list[Any]:
    """Run `sql` to the end (DuckDB 2 refuses new work while a result is unread)."""
    return con.execute(sql).fetchall()


@contextmanager
def duckdb_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB that spills to a temporary folder rather than running out of memory."""
    with tempfile.TemporaryDirectory(prefix="gridweave-duckdb-") as spill:
        con = duckdb.connect(":memory:")
        try:
            run(con, "SET enable_progress_bar = false")
            run(con, f"SET temp_directory = '{spill}'")
            run(con, "SET preserve_insertion_order = false")
            yield con
        finally:
            con.close()


class Backend(Protocol):
    """Where Splink runs: its database API, and frames in and out of it."""

    dialect: str
    api: Any  # a splink DatabaseAPI

    def view(self, frame: pl.DataFrame, name: str) -> object: ...

    def register(self, frame: pl.DataFrame) -> SplinkDataFrame: ...

    def pairs(self, select_sql: str) -> tuple[SplinkDataFrame, int]: ...

    def collect(self, sql: str) -> pl.DataFrame: ...


class DuckDBBackend:
    """Splink's DuckDBAPI on an in-memory connection."""

    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        from splink import DuckDBAPI

        self.con = con
        self.api = DuckDBAPI(con)

    def view(self, frame: pl.DataFrame, name: str) -> object:
        return self.con.register(name, frame.to_arrow())

    def register(self, frame: pl.DataFrame) -> SplinkDataFrame:
        return self.api.register(frame.to_arrow())

    def pairs(self, select_sql: str) -> tuple[SplinkDataFrame, int]:
        run(self.con, f"CREATE OR REPLACE TABLE gw_pairs AS {select_sql}")
        count = int(run(self.con, "SELECT count(*) FROM gw_pairs")[0][0])
        return self.api.register(self.con.table("gw_pairs")), count

    def collect(self, sql: str) -> pl.DataFrame:
        return self.con.sql(sql).pl()


@contextmanager
def backend(config: LinkageConfig) -> Iterator[Backend]:
    """The backend the configuration names, for one training or scoring."""
    if config.backend == "spark":
        from gridweave.linkage.spark import spark_backend

        with spark_backend(config) as spark:
            yield spark
        return
    with duckdb_connection() as con:
        yield DuckDBBackend(con)


def with_term_frequencies(frame: pl.DataFrame, config: LinkageConfig) -> pl.DataFrame:
    """Add tf_<column> for each term-frequency column, counted in `frame` itself."""
    for column in tf_columns(config):
        if f"tf_{column}" in frame.columns:
            continue
        total = frame[column].count() or 1
        counts = frame.group_by(column).len().drop_nulls(column)
        frame = frame.join(
            counts.select(column, (pl.col("len") / total).alias(f"tf_{column}")),
            on=column,
            how="left",
        )
    return frame


def _settings(config: LinkageConfig, probability: float = 0.0001) -> dict[str, Any]:
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "record_id",
        "comparisons": comparisons(config, config.backend),
        "blocking_rules_to_generate_predictions": [],
        "probability_two_random_records_match": probability,
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
    }


def _rule(columns: list[str]) -> str:
    return " AND ".join(f"l.{c} = r.{c}" for c in columns)


def _splink_frame(frame: pl.DataFrame) -> pl.DataFrame:
    # Splink's frames hold only what comparisons read; the probe flag is ours, and the term
    # frequencies go in as lookups (with_term_frequency_lookups)
    return frame.drop("probe", *(c for c in frame.columns if c.startswith("tf_")), strict=False)


def with_term_frequency_lookups(
    linker: Any, db: Backend, frame: pl.DataFrame, config: LinkageConfig
) -> None:
    """Hand Splink the term frequencies `frame` carries (tf_ columns) as lookups."""
    # counted by us over the whole library, even when `frame` is an incremental run's few
    # records; and Spark refuses the duplicate column Splink's own count would add
    for column in tf_columns(config):
        if f"tf_{column}" not in frame.columns:
            continue  # Splink counts it in `frame`
        lookup = frame.select(column, f"tf_{column}").drop_nulls(column).unique(column)
        linker.table_management.register_term_frequency_lookup(db.register(lookup), column)


def train(frame: pl.DataFrame, config: LinkageConfig) -> dict[str, Any]:
    """Estimate the model's parameters on `frame` (comparison columns and tf_ columns)."""
    from splink import Linker
    from splink.internals.exceptions import SplinkException

    training = config.person.training
    with backend(config) as db:
        table = db.register(_splink_frame(frame))
        settings = _settings(config, prior_match_probability(frame, training.id_recall))
        linker = Linker(table, settings, log_level=SPLINK_LOG)
        with_term_frequency_lookups(linker, db, frame, config)
        linker.training.estimate_u_using_random_sampling(
            max_pairs=training.u_max_pairs, seed=training.seed
        )
        for key in training.em_blocking:
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    _rule(key), max_pairs=training.em_max_pairs
                )
            except SplinkException as exc:
                # a small library may have no pairs in a training block: the other session and
                # Splink's starting values stand in
                logging.getLogger(__name__).warning("EM on %s skipped: %s", key, exc)
        return linker.misc.save_model_to_json()


def prior_match_probability(frame: pl.DataFrame, id_recall: float) -> float:
    """λ: the share of all pairs that match, from the pairs sharing a valid id and their recall."""
    n = frame.height
    groups = frame["id_key"].drop_nulls().value_counts()["count"].cast(pl.Int64)
    matches = int((groups * (groups - 1) // 2).sum())
    pairs = n * (n - 1) // 2
    if pairs == 0 or matches == 0:
        return 1e-4
    return min(0.5, matches / pairs / id_recall)


def blocked_pairs(table: str, config: LinkageConfig) -> str:
    """The query of the candidate pairs (SQL that DuckDB and Spark both read).

    A pair is a candidate when it shares every column of a blocking key, one record is a probe
    and one has no valid id; each pair once, smallest id left, with its first key's number.
    """
    parts = []
    for i, key in enumerate(config.person.blocking):
        on = " AND ".join(f"p.{c} = o.{c}" for c in key)
        parts.append(
            f"SELECT {i} AS k, least(p.record_id, o.record_id) AS l,"
            f" greatest(p.record_id, o.record_id) AS r"
            f" FROM {table} p JOIN {table} o ON {on}"
            " WHERE p.probe AND p.record_id <> o.record_id"
            " AND (p.id_key IS NULL OR o.id_key IS NULL)"
        )
    return (
        "SELECT CAST(min(k) AS STRING) AS match_key, l AS join_key_l, r AS join_key_r"
        f" FROM ({' UNION ALL '.join(parts)}) GROUP BY l, r"
    )


def score(
    frame: pl.DataFrame, model: dict[str, Any] | None, config: LinkageConfig, *, threshold: float
) -> tuple[pl.DataFrame, int]:
    """Score the candidate pairs of `frame` (a `probe` column marks the probes).

    Returns the pairs at least `threshold` likely (PAIR_COLUMNS) and how many were scored.
    """
    from splink import Linker

    empty = pl.DataFrame(schema=PAIR_COLUMNS)
    if model is None or frame.height < 2 or not frame["probe"].any():
        return empty, 0
    with backend(config) as db:
        keys = frame.select("record_id", "probe", "id_key", *_block_columns(config))
        db.view(keys, "gw_frame")
        pairs, n_pairs = db.pairs(blocked_pairs("gw_frame", config))
        if n_pairs == 0:
            return empty, 0
        table = db.register(_splink_frame(frame))
        # the stored model was written in the dialect it was trained in: the comparisons are
        # rebuilt for this backend from the configuration, and keep the trained m and u
        linker = Linker(table, in_dialect(model, config), log_level=SPLINK_LOG)
        with_term_frequency_lookups(linker, db, frame, config)
        linker.table_management.register_blocked_pairs_for_predict(pairs)
        predictions = linker.inference.predict(
            threshold_match_probability=threshold, warning_mode="never"
        )
        out = db.collect(
            "SELECT CAST(record_id_l AS BIGINT), CAST(record_id_r AS BIGINT),"
            " match_probability, match_weight"
            f" FROM {predictions.physical_name}"
        )
    named = out.rename(dict(zip(out.columns, PAIR_COLUMNS, strict=True)))
    return named.cast(pl.Schema(PAIR_COLUMNS)), n_pairs


def in_dialect(model: dict[str, Any], config: LinkageConfig) -> dict[str, Any]:
    """`model` with its level conditions spelled for the configured backend, m and u kept.

    A model trained on DuckDB scores on Spark and back; its comparisons must be the
    configuration's (same names, same levels), else the model belongs to another configuration.
    """
    if model.get("sql_dialect") == config.backend:
        return model
    wanted = {c["output_column_name"]: c for c in comparisons(config, config.backend)}
    out = copy.deepcopy(model)
    out["sql_dialect"] = config.backend
    for comparison in out["comparisons"]:
        target = wanted.get(comparison["output_column_name"])
        labels = [lv.get("label_for_charts") for lv in comparison["comparison_levels"]]
        if target is None or labels != [
            lv["label_for_charts"] for lv in target["comparison_levels"]
        ]:
            raise ConfigError(
                f"the stored model (trained on {model.get('sql_dialect')}) has a comparison"
                f" {comparison['output_column_name']!r} that the configuration does not have"
                " as it is",
                hint="run `gridweave link --full` to train the model of this configuration",
            )
        for level, spelled in zip(
            comparison["comparison_levels"], target["comparison_levels"], strict=True
        ):
            level["sql_condition"] = spelled["sql_condition"]
    return out


def _block_columns(config: LinkageConfig) -> list[str]:
    return sorted({c for key in config.person.blocking for c in key} - {"id_key"})
