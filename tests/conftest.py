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


def _recreate(url: str) -> None:
    """Drop and create the test database (on the same server as the app's)."""
    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres")
    admin_url = admin.render_as_string(hide_password=False)
    name = u.database
    assert name and name.endswith("test"), f"refusing to recreate non-test database {name!r}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


@pytest.fixture(scope="session")
def database_url() -> str:
    """URL of a freshly created and migrated test database."""
    try:
        url = resolve_database_url(DatabaseSettings(), LocalDbSettings(), test=True)
        _recreate(url)
    except (LocalDbError, psycopg.OperationalError) as exc:
        _no_database(str(exc).splitlines()[0])
    upgrade(url)
    return url


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
