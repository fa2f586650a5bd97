"""Pairwise precision, recall and F1 of links against ground truth (pure, polars)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from gridweave.core.errors import GridweaveError


@dataclass(frozen=True)
class Quality:
    """Pairwise quality: a pair of source records is linked, or truly one entity, or both."""

    entity_type: str
    records: int  # source records found in both the truth and the base library
    true_pairs: int
    linked_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.linked_pairs if self.linked_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(frame: pl.DataFrame, columns: list[str]) -> int:
    sizes = frame.group_by(columns).len()
    return int(sizes.select((pl.col("len").cast(pl.Int64) * (pl.col("len") - 1) // 2).sum()).item())


def pairwise_quality(linked: pl.DataFrame, entity_type: str) -> Quality:
    """Quality of `linked`: record_id, golden_id (null: linked to nothing), entity_id (truth)."""
    # an unlinked record is alone: give it a cluster of its own
    frame = linked.with_columns(
        pl.coalesce(pl.col("golden_id"), -pl.col("record_id") - 1).alias("golden_id")
    )
    return Quality(
        entity_type=entity_type,
        records=frame.height,
        true_pairs=_pairs(frame, ["entity_id"]),
        linked_pairs=_pairs(frame, ["golden_id"]),
        correct_pairs=_pairs(frame, ["golden_id", "entity_id"]),
    )


def read_truth(path: Path) -> pl.DataFrame:
    """truth/records.csv: source, record_key, entity_type, entity_id."""
    try:
        truth = pl.read_csv(path, infer_schema=False)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise GridweaveError(f"cannot read the truth file {path}: {exc}") from None
    needed = {"source", "record_key", "entity_type", "entity_id"}
    if not needed <= set(truth.columns):
        raise GridweaveError(
            f"{path} lacks the columns {sorted(needed - set(truth.columns))}",
            hint="a synthetic city's truth/records.csv has source, record_key, entity_type,"
            " entity_id",
        )
    return truth.select(sorted(needed))
