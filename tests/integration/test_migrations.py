"""The migrations build exactly the schema the models declare, and every step can be undone."""

from __future__ import annotations

from unittest.mock import patch

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

import gridweave.models  # noqa: F401  (every domain's tables on Base.metadata)
from gridweave.core.database import Base, alembic_config, migrate, migration_heads


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


def _source_record_indexes(engine: Engine) -> dict[str, list[str]]:
    return {
        ix["name"]: list(ix["column_names"])
        for ix in inspect(engine).get_indexes("source_record")
        if ix["name"]
    }


def test_the_migrated_schema_is_the_models_schema(engine: Engine) -> None:
    assert _differences(engine) == []


def test_the_source_record_index_by_id_goes_back_and_forth(engine: Engine) -> None:
    assert _source_record_indexes(engine)["ix_source_record_source"] == ["source_id", "id"]
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0009")
    before = _source_record_indexes(engine)
    assert "ix_source_record_source" not in before
    assert before["ix_source_record_source_key"] == ["source_id", "record_key"]
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "heads")
    assert _differences(engine) == []


def test_every_step_down_to_an_empty_database_and_up_again(engine: Engine) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "heads")
    assert _differences(engine) == []


def test_the_heads_read_from_the_files_are_alembics(engine: Engine) -> None:
    with engine.connect() as connection:
        script = ScriptDirectory.from_config(alembic_config(connection))
    assert migration_heads() == frozenset(script.get_heads())


def test_a_database_behind_the_heads_is_migrated_and_one_at_them_left_alone(
    engine: Engine,
) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0012")
    migrate(engine)
    assert _differences(engine) == []
    with engine.connect() as connection:
        stored = set(connection.scalars(text("SELECT version_num FROM alembic_version")))
    assert stored == set(migration_heads())
    with patch("alembic.command.upgrade", side_effect=AssertionError("Alembic started")):
        migrate(engine)
