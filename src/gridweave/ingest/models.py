"""Tables of ingestion: registered sources, batches, staged source records, quarantined rows.

A source record is one entity observed in one row of one extract: the canonical values the
contract mapped (cleaned), the raw strings they came from, and where and when they were seen.
This is the provenance every golden value points back to (see docs/decisions/0001).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gridweave.core.database import Base, UTCDateTime
from gridweave.core.types import Json

BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite rowid aliases need INTEGER


class Source(Base):
    """A registered source contract: one department extract and its catalog entry."""

    __tablename__ = "source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    department_code: Mapped[str] = mapped_column(String(63), index=True)
    department_name: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    update_frequency: Mapped[str] = mapped_column(String(20))
    sharing: Mapped[str] = mapped_column(String(30))
    contract_yaml: Mapped[str] = mapped_column(Text)
    contract_sha256: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Batch(Base):
    """One extract file ingested (or refused) for a source."""

    __tablename__ = "batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))  # completed | refused
    error: Mapped[str | None] = mapped_column(Text)
    extracted_at: Mapped[datetime] = mapped_column(UTCDateTime)  # default observation time
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    records_new: Mapped[int] = mapped_column(Integer, default=0)
    records_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    report: Mapped[dict[str, Any] | None] = mapped_column(Json)

    __table_args__ = (Index("ix_batch_source_sha", "source_id", "file_sha256"),)


class SourceRecord(Base):
    """One entity as one source row described it, cleaned, with its provenance."""

    __tablename__ = "source_record"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"))
    line_number: Mapped[int] = mapped_column(Integer)  # line (CSV/JSONL) or row (XLSX) in the file
    record_key: Mapped[str] = mapped_column(String(200))  # the source's own id (+ "#role")
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_key: Mapped[str | None] = mapped_column(String(64))  # a valid strong key, if any
    golden_id: Mapped[int | None] = mapped_column(BigId)  # the golden record it is linked to
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    values: Mapped[dict[str, Any]] = mapped_column(Json)  # canonical attribute → cleaned value
    raw: Mapped[dict[str, Any]] = mapped_column(Json)  # attribute → the source's string, where
    # cleaning changed it (absent: the source sent exactly the value)
    flags: Mapped[list[str] | None] = mapped_column(Json)  # "column: problem" of doubtful values
    links: Mapped[dict[str, str] | None] = mapped_column(Json)  # relation → record_key
    record_hash: Mapped[str] = mapped_column(String(32))
    # the keyed hash of the row as sent (every record of one row carries it): a row sent again
    # unchanged is recognised by it and not cleaned again; none where staging depends on more
    # than the row (ingest.pipeline.recognises_unchanged_rows)
    row_hash: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        # a batch starts by reading its source's record keys and hashes in id order
        Index("ix_source_record_source", "source_id", "id"),
        Index("ix_source_record_golden", "entity_type", "golden_id"),
    )


class QuarantinedRow(Base):
    """A row that failed validation, kept whole with the reason for each failing field."""

    __tablename__ = "quarantined_row"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"))
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), index=True)
    line_number: Mapped[int] = mapped_column(Integer)
    record_key: Mapped[str | None] = mapped_column(String(200))
    row: Mapped[dict[str, Any]] = mapped_column(Json)  # the whole row as read
    reasons: Mapped[list[str]] = mapped_column(Json)  # "column: problem", one per failing field
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | resolved

    __table_args__ = (UniqueConstraint("batch_id", "line_number"),)
