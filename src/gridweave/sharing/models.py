"""Tables of the sharing gate: accounts, their tokens, and the hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gridweave.core.database import Base, UTCDateTime
from gridweave.core.types import Json
from gridweave.ingest.models import BigId


class Account(Base):
    """A user or a department system: a role, a department, an area scope, or one own person."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2; None: tokens only
    role: Mapped[str] = mapped_column(String(30))
    department: Mapped[str | None] = mapped_column(String(40))
    area_code: Mapped[str | None] = mapped_column(ForeignKey("area.code"))
    person_id: Mapped[int | None] = mapped_column(BigInteger, index=True)  # a resident's own
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A bearer token: a login session or a department system's API token; only its hash kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # HMAC-SHA256, keyed
    kind: Mapped[str] = mapped_column(String(10))  # session | api
    name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One access or change, chained to the one before it by hash (see sharing/audit.py).

    `seq`, `prev_hash` and `hash` are set as the transaction commits (NULL before).
    """

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)  # place in the chain
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str | None] = mapped_column(String(30))
    actor_department: Mapped[str | None] = mapped_column(String(40))
    actor_area: Mapped[str | None] = mapped_column(String(15))
    entity_type: Mapped[str | None] = mapped_column(String(20))
    record_id: Mapped[int | None] = mapped_column(BigInteger)
    person_id: Mapped[int | None] = mapped_column(BigInteger)  # whose personal data was read
    purpose: Mapped[str | None] = mapped_column(String(60))
    outcome: Mapped[str] = mapped_column(String(10))  # allow | mask | deny | ok | fail
    fields: Mapped[dict[str, str] | None] = mapped_column(Json)  # field → allow | mask | deny
    detail: Mapped[dict[str, Any] | None] = mapped_column(Json)
    request_id: Mapped[str | None] = mapped_column(String(40))
    withheld_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # confidential purpose
    algorithm: Mapped[str] = mapped_column(String(10))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # PostgreSQL: the canonical JSON on either side of the previous hash, until the commit-time
    # trigger chains the entry (migration 0002) and clears them
    payload_before: Mapped[str | None] = mapped_column(Text)
    payload_after: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_audit_entry_person", "person_id", "seq"),
        Index("ix_audit_entry_actor", "actor_name", "seq"),
        Index("ix_audit_entry_action", "action", "seq"),
        Index("ix_audit_entry_request", "request_id"),
    )


class AuditHead(Base):
    """The chain's last sequence number and hash: one row, locked by each append."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
