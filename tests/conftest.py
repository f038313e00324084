"""Test fixtures: a real PostGIS test database, migrated once per run; each test rolled back.

Locally, tests that need PostGIS skip when no server can be reached; with CI set they fail.
"""

from __future__ import annotations

import base64
import itertools
import os
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, make_url
from sqlalchemy.orm import Session

from api.app import AppSettings, create_app
from api.deps import get_session
from geo.access import passwords
from geo.access.keys import Keys, resolve_keys
from geo.access.tokens import issue_token
from geo.access.users import create_user
from geo.db import make_engine, resolve_database_url
from geo.errors import LocalDbError
from geo.migrate import upgrade
from geo.privacy.crypto import PersonalDataCipher
from geo.settings import DatabaseSettings, LocalDbSettings, SecuritySettings

# Strong, fixed test keys: the app refuses to start without keys outside demo mode.
TEST_SECRET_KEY = "test-secret-" + "k7Qv2mXp9LrT4wZs8NcB" * 2
TEST_DATA_KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture(scope="session", autouse=True)
def _test_security() -> Iterator[None]:
    """Test keys in the environment (for tests that build their own AppSettings) and argon2's
    cheapest profile: production hashing costs ~0.1 s, and every client logs a user in."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRIDMAP_SECRET_KEY", TEST_SECRET_KEY)
        mp.setenv("GRIDMAP_DATA_KEY", TEST_DATA_KEY)
        mp.delenv("GRIDMAP_DATA_KEY_FILE", raising=False)
        mp.delenv("GRIDMAP_DEMO", raising=False)
        mp.setattr(passwords, "HASHER", PasswordHasher.from_parameters(CHEAPEST))
        yield


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
    """App settings pointing at the test database, with the test keys."""
    return AppSettings(database_url=database_url, security=SecuritySettings(
        secret_key=TEST_SECRET_KEY, data_key=TEST_DATA_KEY, demo=False))


@pytest.fixture(scope="session")
def cipher() -> PersonalDataCipher:
    """The personal-data cipher under the test data key (the same key the test app uses)."""
    return PersonalDataCipher(base64.b64decode(TEST_DATA_KEY))


@pytest.fixture
def keys(app_settings: AppSettings) -> Keys:
    """The keys the test app runs with (to issue or forge tokens)."""
    return resolve_keys(app_settings.security)


@pytest.fixture
def app(app_settings: AppSettings, session: Session) -> FastAPI:
    """The app, its sessions swapped for the test's rolled-back session."""
    application = create_app(app_settings)
    application.dependency_overrides[get_session] = lambda: session
    return application


@pytest.fixture
def anon_client(app: FastAPI) -> Iterator[TestClient]:
    """HTTP client without credentials."""
    with TestClient(app) as c:
        yield c


_usernames = itertools.count(1)


@pytest.fixture
def login_as(app: FastAPI, session: Session, keys: Keys) -> Iterator[Callable[..., TestClient]]:
    """Factory: `login_as(role="grid_worker", grid_codes=[...])` (any create_user keyword) is
    a client with a bearer token of a new user made in the test session."""
    clients: list[TestClient] = []

    def make(role: str = "admin", username: str | None = None, **scope: Any) -> TestClient:
        user, _ = create_user(session, username or f"test_{role}_{next(_usernames)}", role,
                              **scope)
        token, _ = issue_token(user, keys, 30)
        c = TestClient(app, headers={"Authorization": f"Bearer {token}"})
        c.__enter__()
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def client(login_as: Callable[..., TestClient]) -> TestClient:
    """HTTP client logged in as an admin (sees everything), on the test's session."""
    return login_as("admin", username="test_admin")


@pytest.fixture(scope="session")
def zhongshan(engine: Engine) -> None:
    """The generated Zhongshan demo boundaries, loaded once (committed) through the importer."""
    from geo.demo.load import load_demo_boundaries
    from geo.settings import GeoSettings

    with Session(engine) as sess:
        reports = load_demo_boundaries(sess, GeoSettings())
        assert all(r.ok for r in reports), "\n".join(r.format() for r in reports)
        sess.commit()


@pytest.fixture(scope="session")
def live_site(database_url: str) -> Iterator[Any]:
    """A served gridmap on its own database with a few known cases, for the map pages' browser
    tests (tests/live_site.py); made once per run, on first use, and dropped after."""
    from tests.live_site import serve_live_site

    with serve_live_site(database_url, SecuritySettings(
            secret_key=TEST_SECRET_KEY, data_key=TEST_DATA_KEY, demo=False)) as site:
        yield site
