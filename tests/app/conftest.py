"""Database fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is the server at 127.0.0.1:5432 (trust auth; ``TESSERA_TEST_POSTGRES`` overrides the
admin URL); each test module gets its own throwaway database, dropped afterwards. When the server
is unreachable the PostgreSQL variants fail: PostgreSQL is exercised on every run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from tessera_app.db.base import make_engine, session_factory
from tessera_app.db.models import load_all

ADMIN_URL = os.environ.get(
    "TESSERA_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty database URL (SQLite file or PostgreSQL database) for one test module."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "tessera.db"
        yield f"sqlite:///{path}"
        return
    try:
        with postgres_database("tessera_test") as url:
            yield url
    except DatabaseUnreachable as err:  # a missing server must be loud in CI
        pytest.fail(str(err))


class DatabaseUnreachable(RuntimeError):
    pass


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A throwaway PostgreSQL database on the test server (``ADMIN_URL``), dropped afterwards
    (its sessions cut off first)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as err:
        admin.dispose()
        raise DatabaseUnreachable(f"PostgreSQL at {ADMIN_URL} is unreachable: {err}") from err
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on ``database_url`` with every table created from the models."""
    engine = make_engine(database_url)
    load_all().metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """A session factory; every table is emptied after the test."""
    factory = session_factory(engine)
    yield factory
    metadata = load_all().metadata
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
