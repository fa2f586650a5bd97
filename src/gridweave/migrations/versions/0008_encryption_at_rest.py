"""encryption at rest: citizen ids and phones stored as ciphertexts (wider columns), people
keyed by the blind index of their citizen id instead of the clear id, phones searchable by theirs

Existing clear values are encrypted by `gridweave keys rotate` (docs/decisions/0008).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SEALED = sa.String(length=160)  # gw1:<alg>:<key id ≤ 32>:<base64 of nonce‖value‖tag>
BLIND = sa.String(length=32)


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint("uq_person_citizen_id", type_="unique")
        batch_op.alter_column("citizen_id", type_=SEALED, existing_nullable=True)
        batch_op.alter_column("phone", type_=SEALED, existing_nullable=True)
        batch_op.add_column(sa.Column("citizen_id_bidx", BLIND, nullable=True))
        batch_op.add_column(sa.Column("phone_bidx", BLIND, nullable=True))
        batch_op.create_unique_constraint("uq_person_citizen_id_bidx", ["citizen_id_bidx"])
        batch_op.create_index("ix_person_phone_bidx", ["phone_bidx"], unique=False)
    with op.batch_alter_table("legal_entity", schema=None) as batch_op:
        batch_op.alter_column("phone", type_=SEALED, existing_nullable=True)
    with op.batch_alter_table("person_feature", schema=None) as batch_op:
        batch_op.alter_column("citizen_id", type_=SEALED, existing_nullable=True)
        batch_op.alter_column("phone", type_=SEALED, existing_nullable=True)
        batch_op.alter_column("id_key", type_=SEALED, existing_nullable=True)


def downgrade() -> None:
    # ciphertexts do not fit the old widths: decrypt first (there is no command for it)
    with op.batch_alter_table("person_feature", schema=None) as batch_op:
        batch_op.alter_column("id_key", type_=sa.String(length=18), existing_nullable=True)
        batch_op.alter_column("phone", type_=sa.String(length=20), existing_nullable=True)
        batch_op.alter_column("citizen_id", type_=sa.String(length=40), existing_nullable=True)
    with op.batch_alter_table("legal_entity", schema=None) as batch_op:
        batch_op.alter_column("phone", type_=sa.String(length=20), existing_nullable=True)
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index("ix_person_phone_bidx")
        batch_op.drop_constraint("uq_person_citizen_id_bidx", type_="unique")
        batch_op.drop_column("phone_bidx")
        batch_op.drop_column("citizen_id_bidx")
        batch_op.alter_column("phone", type_=sa.String(length=20), existing_nullable=True)
        batch_op.alter_column("citizen_id", type_=sa.String(length=18), existing_nullable=True)
        batch_op.create_unique_constraint("uq_person_citizen_id", ["citizen_id"])
