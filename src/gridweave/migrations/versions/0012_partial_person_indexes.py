"""person's phone and residence-room indexes hold only the people who have one

`ix_person_phone_bidx` and `ix_person_residence_room_code` were full indexes, so every golden
person without a phone or a known room (every person a police register describes: it fills
neither) still cost an index entry, inserted at every ingest. Now both are partial (`WHERE …
IS NOT NULL`); a look-up by phone or room (`=`, `IN`, a join) implies the condition, so SQLite
and PostgreSQL use them as before. Measured on a 992,407-row police load: 1.3 s less on average,
inside the run-to-run spread (docs/decisions/0007, 2026-12-07).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = ("phone_bidx", "residence_room_code")


def upgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_person_{column}", table_name="person")
        condition = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            f"ix_person_{column}",
            "person",
            [column],
            sqlite_where=condition,
            postgresql_where=condition,
        )


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_person_{column}", table_name="person")
        op.create_index(f"ix_person_{column}", "person", [column])
