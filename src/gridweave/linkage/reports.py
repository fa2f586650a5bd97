"""Reading links out: the export file, and their quality against a synthetic city's truth."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from gridweave.linkage.evaluate import Quality, pairwise_quality

LINK_COLUMNS = {
    "source": pl.String,
    "record_key": pl.String,
    "record_id": pl.Int64,
    "entity_type": pl.String,
    "golden_id": pl.Int64,
}


def links(session: Session, entity_type: str | None = "person") -> pl.DataFrame:
    """source, record_key (the department's id), record_id, entity_type, golden_id."""
    where = f" WHERE r.entity_type = '{entity_type}'" if entity_type else ""
    rows = (
        session.connection()
        .exec_driver_sql(
            "SELECT s.name, r.record_key, r.id, r.entity_type, r.golden_id"
            f" FROM source_record r JOIN source s ON s.id = r.source_id{where}"
            " ORDER BY r.id"
        )
        .all()
    )
    return pl.DataFrame(rows, schema=LINK_COLUMNS, orient="row")


def export_links(session: Session, *, out: Path, entity_type: str | None = "person") -> int:
    """Write every source record's golden id to a CSV file; return how many rows."""
    frame = links(session, entity_type)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(out)
    return frame.height


def evaluate_links(session: Session, truth: pl.DataFrame) -> list[Quality]:
    """Pairwise quality of the current links, per entity type of the truth, people first."""
    # a record id repeated in an extract is ingested once, at its first line
    truth = truth.unique(["source", "record_key", "entity_type"], keep="first", maintain_order=True)
    linked = links(session, None).join(
        truth, on=["source", "record_key", "entity_type"], how="inner"
    )
    order = ["person", "legal_entity", "household", "building", "room", "city_component"]
    kinds = sorted(
        linked["entity_type"].unique(),
        key=lambda k: (k not in order, order.index(k) if k in order else 0, k),
    )
    return [pairwise_quality(linked.filter(pl.col("entity_type") == k), k) for k in kinds]


def source_names(session: Session) -> dict[int, str]:
    """source id → name."""
    rows = session.connection().exec_driver_sql("SELECT id, name FROM source").all()
    return {r[0]: r[1] for r in rows}
