"""Alembic's environment: the target metadata is every model (``load_all()``); the database is
the caller's (``config.attributes["database_url"]``) or ``TESSERA_DATABASE_URL``."""

from __future__ import annotations

import logging.config
from typing import Any, Literal

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from tessera_app.db.base import UtcDateTime, make_engine
from tessera_app.db.models import load_all
from tessera_app.settings import Settings

config = context.config
if config.config_file_name and config.attributes.get("configure_logging", True):
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = load_all().metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Revisions spell ``UtcDateTime`` as the plain column type it stores, so they do not
    depend on the application's Python types."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_item=render_item,
        compare_type=True,
        **kwargs,
    )


def database_url() -> str:
    return str(config.attributes.get("database_url") or Settings().database_url)


def run_offline() -> None:
    url = database_url()
    configure(url=url, literal_binds=True, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


MIGRATION_LOCK = 0x7E55E7A_0001
"""The PostgreSQL advisory lock that serializes migrations: replicas starting together take
turns, and the later ones find nothing left to do."""


def run(connection: Connection) -> None:
    configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = make_engine(database_url())
    try:
        with engine.connect() as connection:
            run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
