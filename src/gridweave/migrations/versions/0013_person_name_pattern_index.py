"""person's name index answers a name-prefix search on PostgreSQL too

A name search is `name LIKE 'prefix%'`. PostgreSQL looks such a pattern up in a B-tree index
only if the index compares bytes, not the database's collation: C.UTF-8 or zh_CN.UTF-8 leave
it reading every person. `ix_person_name` is rebuilt with `varchar_pattern_ops`, which serves
`=` and a prefix `LIKE` under any collation (names are never sorted by the index). SQLite has
no operator classes: there the search adds a range of the index itself (registry.queries).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_person_name", table_name="person")
    op.create_index(
        "ix_person_name", "person", ["name"], postgresql_ops={"name": "varchar_pattern_ops"}
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_person_name", table_name="person")
    op.create_index("ix_person_name", "person", ["name"])
