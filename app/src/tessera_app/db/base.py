"""The declarative base, engines and sessions.

SQLite is the embedded default (one file, one worker); PostgreSQL is production (several
workers and app replicas share it). Constraint names follow one convention so migrations are
stable on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both databases (SQLite keeps no zone: it is added
    back on the way out)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: use datetime.now(UTC)")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``: ``sqlite:///path`` or ``postgresql+psycopg://...`` (a plain
    ``postgresql://`` URL uses psycopg 3)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # pysqlite opens transactions itself, lazily, only before a write: SAVEPOINTs and
    # rollbacks then misbehave. Take control (SQLAlchemy's documented recipe): no implicit
    # transactions, and an explicit BEGIN IMMEDIATE when SQLAlchemy begins one.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE: take the write lock up front (waiting up to busy_timeout), so a transaction
    # never fails half-way when it starts writing while the worker writes too.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back on error."""
    with factory() as session, session.begin():
        yield session


SQLITE_AWAY = ("unable to open database file", "disk i/o error", "database is locked")
"""SQLite's words for a database that cannot be used right now (as opposed to a statement it
refuses: "no such table", a constraint, ...)."""
POSTGRES_AWAY = ("57P01", "57P02", "57P03")  # shut down by an admin, crashed, not accepting yet


def database_unavailable(err: BaseException) -> bool:
    """Whether ``err`` means the database could not be reached or dropped the connection (as
    opposed to refusing a statement: a timeout, a full disk, a deadlock, a missing table): the
    work may be tried again as it is, without counting it as an attempt."""
    if not isinstance(err, DBAPIError):
        return False
    if err.connection_invalidated or isinstance(err, InterfaceError):
        return True
    if not isinstance(err, OperationalError):
        return False
    state = getattr(err.orig, "sqlstate", None)
    if state is not None:  # PostgreSQL: connection exceptions (class 08) and shutdowns
        return bool(state.startswith("08") or state in POSTGRES_AWAY)
    message = str(err.orig).lower()
    if "sqlite" in type(err.orig).__module__:
        return any(words in message for words in SQLITE_AWAY)
    return True  # psycopg without a SQLSTATE: the connection failed or was closed


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
