"""sharing workflows: applications (grants), consents, correction requests, the message outbox;
the audit log indexed by record (household reads in each member's tracker)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import gridweave.core.database

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _at(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, gridweave.core.database.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # the data tracker finds the reads of a resident's household by record
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entry_record", ["entity_type", "record_id", "seq"])
    op.create_table(
        "sharing_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource", sa.String(length=63), nullable=False),
        sa.Column("provider", sa.String(length=63), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("requested_by_name", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=60), nullable=False),
        sa.Column("fields", _json(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _at("valid_from", nullable=False),
        _at("valid_until", nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_by_name", sa.String(length=100), nullable=True),
        _at("decided_at"),
        sa.Column("decision_note", sa.Text(), nullable=True),
        _at("revoked_at"),
        _at("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_application")),
    )
    with op.batch_alter_table("sharing_application", schema=None) as batch_op:
        for column in ("resource", "provider", "status"):
            batch_op.create_index(batch_op.f(f"ix_sharing_application_{column}"), [column])
        batch_op.create_index("ix_sharing_application_grants", ["department", "purpose", "status"])

    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=False),
        sa.Column("requested_by_name", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=60), nullable=False),
        sa.Column("fields", _json(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _at("valid_until", nullable=False),
        sa.Column("single_use", sa.Boolean(), nullable=False),
        sa.Column("by_guardian", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_by_person", sa.BigInteger(), nullable=True),
        _at("decided_at"),
        _at("revoked_at"),
        sa.Column("uses", sa.Integer(), nullable=False),
        _at("last_used_at"),
        _at("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    with op.batch_alter_table("consent", schema=None) as batch_op:
        for column in ("department", "status"):
            batch_op.create_index(batch_op.f(f"ix_consent_{column}"), [column])
        batch_op.create_index("ix_consent_in_force", ["person_id", "department", "purpose"])

    op.create_table(
        "consent_decider",
        sa.Column("consent_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consent.id"], name=op.f("fk_consent_decider_consent_id_consent")
        ),
        sa.PrimaryKeyConstraint("consent_id", "person_id", name=op.f("pk_consent_decider")),
    )
    with op.batch_alter_table("consent_decider", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_decider_person_id"), ["person_id"])

    op.create_table(
        "correction_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("attribute", sa.String(length=60), nullable=False),
        sa.Column("disputed_value", sa.Text(), nullable=True),
        sa.Column("proposed_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=63), nullable=False),
        sa.Column("source", sa.String(length=63), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("corrected_value", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by_name", sa.String(length=100), nullable=True),
        _at("answered_at"),
        _at("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_request")),
    )
    with op.batch_alter_table("correction_request", schema=None) as batch_op:
        for column in ("person_id", "department", "status"):
            batch_op.create_index(batch_op.f(f"ix_correction_request_{column}"), [column])

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event", sa.String(length=60), nullable=False),
        sa.Column("recipient_kind", sa.String(length=12), nullable=False),
        sa.Column("recipient", sa.String(length=63), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("next_attempt_at", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _at("created_at", nullable=False),
        _at("sent_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_message_due", ["status", "next_attempt_at"])
        batch_op.create_index("ix_outbox_message_recipient", ["recipient_kind", "recipient", "id"])


def downgrade() -> None:
    for table in (
        "outbox_message",
        "correction_request",
        "consent_decider",
        "consent",
        "sharing_application",
    ):
        op.drop_table(table)
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_record")
