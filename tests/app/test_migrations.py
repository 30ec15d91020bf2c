"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL: a
model changed without a migration fails here."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from tessera_app.db.base import make_engine
from tessera_app.db.models import load_all
from tessera_app.migrations import config, current, upgrade


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, load_all().metadata))
    finally:
        engine.dispose()


def test_an_empty_database_migrates_to_the_models(database_url: str) -> None:
    assert current(database_url) is None
    upgrade(database_url)
    head = ScriptDirectory.from_config(config(database_url)).get_current_head()
    assert head is not None and current(database_url) == head
    assert _differences(database_url) == []
    engine = make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(load_all().metadata.tables) | {"alembic_version"} == tables
    upgrade(database_url)  # a second run is a no-op
    assert current(database_url) == head
