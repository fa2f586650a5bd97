"""Tables of the sharing gate: accounts, tokens, the hash-chained audit log, and the workflows
that widen or correct what is shared: applications (grants), consents, correction requests."""

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
        Index("ix_audit_entry_record", "entity_type", "record_id", "seq"),
    )


class AuditHead(Base):
    """The chain's last sequence number and hash: one row, locked by each append."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class Application(Base):
    """A department's application to read fields of a resource shared on approval (有条件共享).

    Approved, it is a grant the gate honours from `valid_from` until `valid_until`, until the
    providing department revokes it, or until the applying department withdraws it.
    """

    __tablename__ = "sharing_application"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource: Mapped[str] = mapped_column(String(63), index=True)  # the catalog entry's name
    provider: Mapped[str] = mapped_column(String(63), index=True)  # the source's department
    department: Mapped[str] = mapped_column(String(40))  # the requesting department
    requested_by: Mapped[int | None] = mapped_column(Integer)  # the requesting account
    requested_by_name: Mapped[str] = mapped_column(String(100))  # its username (system)
    purpose: Mapped[str] = mapped_column(String(60))
    fields: Mapped[list[list[str]]] = mapped_column(Json)  # [[entity, attribute], …]
    reason: Mapped[str] = mapped_column(Text)  # why the requester needs it
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    # pending | approved | refused | revoked (by the provider) | withdrawn (by the applicant)
    status: Mapped[str] = mapped_column(String(12), index=True)
    decided_by_name: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)  # refusal or revocation reason
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a grant ended early
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # every gated read with a purpose looks up its department's grants for that purpose
    __table_args__ = (Index("ix_sharing_application_grants", "department", "purpose", "status"),)


class ConsentRecord(Base):
    """A department's request for a person's consent, and the person's (or guardian's) answer."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger)  # whose data
    department: Mapped[str] = mapped_column(String(40), index=True)  # the requester
    requested_by_name: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(60))
    fields: Mapped[list[str]] = mapped_column(Json)  # person attributes
    reason: Mapped[str] = mapped_column(Text)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    single_use: Mapped[bool] = mapped_column(Boolean)
    by_guardian: Mapped[bool] = mapped_column(Boolean)  # the person was under 14 when asked
    # pending | granted | refused | revoked | withdrawn (by the department) | spent (used once)
    status: Mapped[str] = mapped_column(String(12), index=True)
    decided_by_person: Mapped[int | None] = mapped_column(BigInteger)  # the person or guardian
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # a read for a consent purpose looks up the consents of the record's people
    __table_args__ = (Index("ix_consent_in_force", "person_id", "department", "purpose"),)


class ConsentDecider(Base):
    """Who may answer a consent request: the person, or each of a child's guardians."""

    __tablename__ = "consent_decider"

    consent_id: Mapped[int] = mapped_column(ForeignKey("consent.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)


class CorrectionRequest(Base):
    """A resident disputes one value of their record; the department that supplied it answers."""

    __tablename__ = "correction_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(BigInteger, index=True)
    attribute: Mapped[str] = mapped_column(String(60))
    disputed_value: Mapped[str | None] = mapped_column(Text)  # the value as shown then
    proposed_value: Mapped[str | None] = mapped_column(Text)  # what the resident says is right
    reason: Mapped[str] = mapped_column(Text)
    department: Mapped[str] = mapped_column(String(63), index=True)  # routed to (provenance)
    source: Mapped[str] = mapped_column(String(63))  # the source the value came from
    status: Mapped[str] = mapped_column(String(10), index=True)  # pending|accepted|rejected
    corrected_value: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_name: Mapped[str | None] = mapped_column(String(100))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
