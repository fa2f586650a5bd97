"""Tables of entity resolution: features and blocking keys, runs, the review queue, decisions,
and the merges that let a retired golden id resolve to the record that absorbed it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gridweave.core.database import Base, UTCDateTime
from gridweave.core.types import Json
from gridweave.ingest.models import BigId


class PersonFeature(Base):
    """What linkage compares about one person source record, computed once (linkage.features).

    Derived from source_record and rebuildable from it, so it holds no foreign key.
    """

    __tablename__ = "person_feature"

    record_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    name: Mapped[str | None] = mapped_column(String(100), index=True)
    surname: Mapped[str | None] = mapped_column(String(20))
    name_py: Mapped[str | None] = mapped_column(String(200))
    name_tone: Mapped[str | None] = mapped_column(String(200))
    given_py: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[str | None] = mapped_column(String(10))
    sex: Mapped[str | None] = mapped_column(String(10))
    # phone, citizen_id and id_key are ciphertexts (core.crypto), opened when loaded
    phone: Mapped[str | None] = mapped_column(String(160))
    citizen_id: Mapped[str | None] = mapped_column(String(160))  # as cleaned, valid or not
    id_key: Mapped[str | None] = mapped_column(String(160))  # the valid id, if any
    room_key: Mapped[str | None] = mapped_column(String(200))
    building_key: Mapped[str | None] = mapped_column(String(200))
    hukou_room_key: Mapped[str | None] = mapped_column(String(200))
    hukou_building_key: Mapped[str | None] = mapped_column(String(200))


class PersonBlockKey(Base):
    """One blocking key value of one record: new records find their candidates through these."""

    __tablename__ = "person_block_key"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # "<key no>|<value>"
    record_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    idless: Mapped[bool] = mapped_column(Boolean)  # the record has no valid citizen id

    # SQLite: the primary key is the table (no second b-tree); PostgreSQL ignores this
    __table_args__ = ({"sqlite_with_rowid": False},)


class LinkageRun(Base):
    """One `gridweave link`: what it read, what it decided, and the model it used."""

    __tablename__ = "linkage_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(12))  # full | incremental
    actor: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_record_id: Mapped[int] = mapped_column(BigInteger, default=0)  # newest record read
    blocking: Mapped[str] = mapped_column(String(16))  # fingerprint of the blocking keys
    records_new: Mapped[int] = mapped_column(Integer, default=0)
    records_read: Mapped[int] = mapped_column(Integer, default=0)
    pairs_scored: Mapped[int] = mapped_column(Integer, default=0)
    auto_links: Mapped[int] = mapped_column(Integer, default=0)
    review_items: Mapped[int] = mapped_column(Integer, default=0)
    golden_created: Mapped[int] = mapped_column(Integer, default=0)
    golden_updated: Mapped[int] = mapped_column(Integer, default=0)
    merges: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    model: Mapped[dict[str, Any] | None] = mapped_column(Json)  # the trained Splink model
    report: Mapped[dict[str, Any] | None] = mapped_column(Json)


class ReviewItem(Base):
    """A pair of source records a steward must decide on: one person, or two?"""

    __tablename__ = "review_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))  # uncertain | id_conflict
    record_id: Mapped[int] = mapped_column(BigId, ForeignKey("source_record.id"))
    other_id: Mapped[int] = mapped_column(BigId, ForeignKey("source_record.id"))
    match_probability: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open accepted rejected
    run_id: Mapped[int | None] = mapped_column(ForeignKey("linkage_run.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("entity_type", "record_id", "other_id"),
        Index("ix_review_item_status", "entity_type", "status"),
    )


class LinkDecision(Base):
    """A steward's ruling on two source records, which every later run respects."""

    __tablename__ = "link_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int] = mapped_column(BigId, ForeignKey("source_record.id"), index=True)
    other_id: Mapped[int] = mapped_column(BigId, ForeignKey("source_record.id"), index=True)
    decision: Mapped[str] = mapped_column(String(12))  # link | keep_apart
    origin: Mapped[str] = mapped_column(String(12))  # review | split
    review_item_id: Mapped[int | None] = mapped_column(ForeignKey("review_item.id"))
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)


class GoldenMerge(Base):
    """A golden record retired into another: its id resolves to `into_id` from then on."""

    __tablename__ = "golden_merge"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(20))
    from_id: Mapped[int] = mapped_column(BigInteger)
    into_id: Mapped[int] = mapped_column(BigInteger)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("linkage_run.id"))
    reason: Mapped[str] = mapped_column(String(20))  # linkage | review
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_golden_merge_from", "entity_type", "from_id"),)


class MatchKey(Base):
    """One key a legal entity, building or room source record is found by (its normalised name,
    its standardised address): uncoded records find their golden record through these."""

    __tablename__ = "match_key"

    entity_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # "<kind>|<value>"
    record_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)

    __table_args__ = (
        Index("ix_match_key_record", "record_id"),
        {"sqlite_with_rowid": False},
    )
