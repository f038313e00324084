"""The benchmark's own databases on the project cluster: `gridmap_bench_base` (the demo district
and its year, loaded once per run) and `gridmap_bench` (re-made from the base for every scale).
Never the dev or the test database: the names are fixed here and checked before any DROP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import make_url
from sqlalchemy.orm import Session

from geo.db import make_engine, make_sessionmaker, resolve_database_url
from geo.privacy.crypto import PersonalDataCipher
from geo.settings import CaseSettings, DatabaseSettings, GeoSettings, LocalDbSettings

BASE_DB = "gridmap_bench_base"
SCALE_DB = "gridmap_bench"
PREFIX = "gridmap_bench"


def use_names(scale_db: str) -> None:
    """Another pair of bench databases (`NAME` and `NAME_base`), e.g. for the smoke test while
    a full run holds the default ones; the name must start with gridmap_bench."""
    global BASE_DB, SCALE_DB
    if not scale_db.startswith(PREFIX) or not scale_db.replace("_", "").isalnum():
        raise ValueError(f"bench database {scale_db!r} must be gridmap_bench[_suffix]")
    BASE_DB, SCALE_DB = f"{scale_db}_base", scale_db


def _ours(name: str) -> bool:
    return name in (BASE_DB, SCALE_DB) and name.startswith(PREFIX)


def server_url(database: str) -> str:
    """SQLAlchemy URL of `database` on the project cluster (or GRIDMAP_DATABASE_URL's server)."""
    base = make_url(resolve_database_url(DatabaseSettings(), LocalDbSettings()))
    return base.set(database=database).render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The same URL for psycopg / asyncpg (no SQLAlchemy driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _admin() -> psycopg.Connection:
    return psycopg.connect(libpq_url(server_url("postgres")), autocommit=True, connect_timeout=10)


def drop(name: str) -> None:
    """Drop one of the benchmark's databases (refuses any other name)."""
    if not _ours(name):
        raise ValueError(f"refusing to drop {name!r}: not a benchmark database")
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create(name: str, template: str | None = None) -> str:
    """Drop and create a benchmark database (from `template` when given); its URL."""
    drop(name)
    with _admin() as conn:
        if template is None:
            conn.execute(f'CREATE DATABASE "{name}"')
        else:
            if not _ours(template):
                raise ValueError(f"refusing to copy {template!r}")
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = server_url(name)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url


@contextmanager
def session_on(url: str) -> Iterator[Session]:
    """A session on a benchmark database (engine disposed afterwards)."""
    engine = make_engine(url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def build_base(cipher_key: bytes) -> tuple[str, dict[str, float]]:
    """Make `gridmap_bench_base`: migrated, the demo boundaries, reference data, gazetteer,
    grid people and the demo year (through the same intake and workflow as `make run`)."""
    from geo.demo.load import load_demo
    from geo.migrate import upgrade

    t0 = time.perf_counter()
    url = create(BASE_DB)
    upgrade(url)
    t1 = time.perf_counter()
    cipher = PersonalDataCipher(cipher_key)
    note = "load_demo"
    with session_on(url) as session:
        try:
            with session.begin_nested():
                load_demo(session, GeoSettings(), CaseSettings(), cipher=cipher)
        except Exception as exc:  # noqa: BLE001 - the demo is being built by others: fall back
            note = f"core demo steps (load_demo failed: {str(exc).splitlines()[0][:200]})"
            _load_core_demo(session, cipher)
        session.commit()
    t2 = time.perf_counter()
    vacuum_analyze(url)
    return url, {"migrate_s": t1 - t0, "demo_load_s": t2 - t1, "base": note}


def _load_core_demo(session: Session, cipher: PersonalDataCipher) -> None:
    """The demo without its optional extras: boundaries, reference data, gazetteer, grid
    people, the 2020 year and its workflow (what every measurement needs)."""
    from geo.cases.reference import ensure_area_units, load_reference_data
    from geo.demo.cases import generate_demo_year
    from geo.demo.load import load_demo_boundaries
    from geo.demo.people import assign_demo_people
    from geo.demo.workflow import demo_as_of, run_demo_workflow
    from geo.geocode.gazetteer import build_gazetteer
    from geo.geocode.matcher import GazetteerGeocoder

    reports = load_demo_boundaries(session, GeoSettings())
    if not all(r.ok for r in reports):
        raise RuntimeError("\n".join(r.format() for r in reports))
    load_reference_data(session)
    ensure_area_units(session)
    build_gazetteer(session)
    assign_demo_people(session)
    generate_demo_year(session, 2020, geocoder=GazetteerGeocoder.from_session(session),
                       settings=CaseSettings(), cipher=cipher)
    run_demo_workflow(session, demo_as_of(2020), cipher=cipher)


def scale_db() -> str:
    """A fresh `gridmap_bench`, a copy of the base."""
    return create(SCALE_DB, template=BASE_DB)


def vacuum_analyze(url: str) -> None:
    """Fresh statistics after a bulk load (the planner must see the real row counts)."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def sizes_mb(url: str) -> dict[str, float]:
    """The database and its largest tables (with indexes and TOAST), in MiB."""
    with psycopg.connect(libpq_url(url)) as conn:
        total = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        rows = conn.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
            "AND c.relkind = 'r' ORDER BY 2 DESC LIMIT 8").fetchall()
    out = {"database": (total[0] if total else 0) / 2 ** 20}
    out.update({name: size / 2 ** 20 for name, size in rows})
    return out


def set_statement_timeout(name: str, seconds: float | None) -> None:
    """A statement timeout for new connections to a bench database (None: back to none), so a
    query that outlives its HTTP request stops instead of slowing the next measurement."""
    if not _ours(name):
        raise ValueError(f"refusing to alter {name!r}: not a benchmark database")
    with _admin() as conn:
        if seconds is None:
            conn.execute(f'ALTER DATABASE "{name}" RESET statement_timeout')
        else:
            conn.execute(f'ALTER DATABASE "{name}" SET statement_timeout = {int(seconds * 1000)}')
