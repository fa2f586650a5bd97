"""match keys of legal entities, buildings and rooms (linkage by name and address)

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_key",
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("entity_type", "key", "record_id", name=op.f("pk_match_key")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_match_key_record", "match_key", ["record_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_match_key_record", table_name="match_key")
    op.drop_table("match_key")
