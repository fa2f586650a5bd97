"""The outbox: messages written in the same transaction as the change they announce."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gridweave.core.database import Base, UTCDateTime
from gridweave.core.types import Json
from gridweave.ingest.models import BigId


class OutboxMessage(Base):
    """One event for one recipient, waiting to be sent (or sent, or given up on)."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event: Mapped[str] = mapped_column(String(60))  # past tense: ConsentRequested, …
    recipient_kind: Mapped[str] = mapped_column(String(12))  # person | department
    recipient: Mapped[str] = mapped_column(String(63))  # a person id or a department code
    payload: Mapped[dict[str, Any]] = mapped_column(Json)  # carries schema_version
    status: Mapped[str] = mapped_column(String(8))  # pending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
        Index("ix_outbox_message_recipient", "recipient_kind", "recipient", "id"),
    )
