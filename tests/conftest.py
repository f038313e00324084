"""Test fixtures: a real PostGIS test database, migrated once per run; each test rolled back.

Locally, tests that need PostGIS skip when no server can be reached; with CI set they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, make_url
from sqlalchemy.orm import Session

from api.app import AppSettings, create_app
from api.deps import get_session
from geo.db import make_engine, resolve_database_url
from geo.errors import LocalDbError
from geo.migrate import upgrade
from geo.settings import DatabaseSettings, LocalDbSettings


def _no_database(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostGIS is required in CI: {reason}")
    pytest.skip(f"no PostGIS reachable: {reason}")


def _admin(url: str) -> tuple[str, str]:
    u = make_url(url)
    name = u.database
    assert name and "_test" in name, f"refusing to touch non-test database {name!r}"
    admin = u.set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False), name


def _recreate(url: str) -> None:
    """Drop and create the test database (on the same server as the app's)."""
    admin_url, name = _admin(url)
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop(url: str) -> None:
    admin_url, name = _admin(url)
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """URL of a freshly created and migrated test database, private to this test run (its
    name carries the process id, so two runs on one server never drop each other's)."""
    try:
        base = make_url(resolve_database_url(DatabaseSettings(), LocalDbSettings(), test=True))
        url = base.set(database=f"{base.database}_{os.getpid()}").render_as_string(
            hide_password=False)
        _recreate(url)
    except (LocalDbError, psycopg.OperationalError) as exc:
        _no_database(str(exc).splitlines()[0])
    upgrade(url)
    yield url
    _drop(url)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """Engine on the test database."""
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            yield conn
        finally:
            trans.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """ORM session joined to the test's transaction; commits become savepoints."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as sess:
        yield sess


@pytest.fixture
def app_settings(database_url: str) -> AppSettings:
    """App settings pointing at the test database."""
    return AppSettings(database_url=database_url)


@pytest.fixture
def client(app_settings: AppSettings, session: Session) -> Iterator[TestClient]:
    """HTTP client on the app, its sessions swapped for the test's rolled-back session."""
    app = create_app(app_settings)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def zhongshan(engine: Engine) -> None:
    """The generated Zhongshan demo boundaries, loaded once (committed) through the importer."""
    from geo.demo.load import load_demo_boundaries
    from geo.settings import GeoSettings

    with Session(engine) as sess:
        reports = load_demo_boundaries(sess, GeoSettings())
        assert all(r.ok for r in reports), "\n".join(r.format() for r in reports)
        sess.commit()
