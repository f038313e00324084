"""Database engine and sessions, and the one place driver errors become domain errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from geo import localdb
from geo.errors import DatabaseUnavailable
from geo.settings import DatabaseSettings, LocalDbSettings


def resolve_database_url(db: DatabaseSettings, local: LocalDbSettings, *,
                         test: bool = False) -> str:
    """The URL to use: GRIDMAP_DATABASE_URL if given, else the project-local cluster."""
    if db.database_url:
        if not test:
            return db.database_url
        if db.test_database_url:
            return db.test_database_url
        url = make_url(db.database_url)
        return url.set(database=f"{url.database}_test").render_as_string(hide_password=False)
    return localdb.local_url(local, local.test_database if test else local.database)


# Every connection runs without JIT compilation. The planner's costs for the tile, items and
# assignment queries over a large district pass jit_above_cost, and PostgreSQL then compiles
# each statement anew: measured on a 100× district (281k cases) one z13 case tile took 3.6 s,
# 4.4 s of it (summed over parallel workers) LLVM inlining and optimisation, and 0.52 s
# without. Our statements are short and run once each, the kind JIT never pays back.
CONNECT_OPTIONS = "-c jit=off"


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """An engine for a postgresql+psycopg URL; connections are checked before use and run
    without JIT (CONNECT_OPTIONS)."""
    return create_engine(url, pool_size=pool_size, pool_pre_ping=True, future=True,
                         connect_args={"options": CONNECT_OPTIONS})


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Session factory bound to the engine."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn 'cannot reach the database' driver errors into DatabaseUnavailable."""
    try:
        yield
    except OperationalError as exc:
        raise DatabaseUnavailable(str(exc.orig).strip().splitlines()[0]) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise DatabaseUnavailable("database connection lost") from exc
        raise
