"""a hash of each row a source sent, so that a row sent again unchanged is not cleaned again

`source_record.row_hash`: the keyed hash of the cells of the row the record came from (every
record of one row carries the same). A daily full extract is mostly rows sent again exactly as
before; a batch recognises them by record id and row hash and skips their cleaning
(docs/ingest.md, "The next extract"). Records stored before this revision have none: the next
extract cleans their rows once more and gives each row's newest record its hash.

`batch.rows_unchanged`: how many rows a batch recognised so.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN (no table copy): the table may hold a billion rows
    op.add_column("source_record", sa.Column("row_hash", sa.String(length=32), nullable=True))
    op.add_column(
        "batch", sa.Column("rows_unchanged", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.drop_column("rows_unchanged")
    with op.batch_alter_table("source_record", schema=None) as batch_op:
        batch_op.drop_column("row_hash")
