"""A live gridmap for the map pages' browser tests: its own database (migrated; the Zhongshan
demo boundaries; a handful of cases in known grids, dates and states; users whose passwords the
test knows), served by uvicorn on 127.0.0.1 in a thread with the request clock fixed.

Its own database because a browser needs committed data and a real server, while every other
test runs in a rolled-back transaction on the shared test database; this one is dropped after.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import psycopg
import uvicorn
from fastapi import FastAPI
from shapely.geometry import mapping, shape
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from api.app import AppSettings, create_app
from api.deps import get_now
from geo.access.scope import scope_for
from geo.access.users import create_user
from geo.cases.intake import create_cases
from geo.cases.reference import ensure_area_units, load_reference_data
from geo.cases.schema import CHINA_TZ, CaseIn
from geo.db import make_engine
from geo.demo.load import load_demo_boundaries
from geo.migrate import upgrade
from geo.projects.edit import save_project
from geo.settings import (
    CaseSettings,
    GeoSettings,
    HotspotSettings,
    MapSettings,
    SecuritySettings,
)
from geo.workflow.supervision import tick
from geo.workflow.transitions import apply_transition

# The request clock of the live site: a Monday, so the bands of the cases below are known.
NOW = datetime(2020, 6, 15, 10, 0, tzinfo=CHINA_TZ)
TODAY = date(2020, 6, 15)
PASSWORD = "Browser-test-passw0rd!"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ACTIVE_GRIDS = ("SELECT gc.code, ST_AsGeoJSON(gc.geom) AS geom FROM grid_cell gc "
                "JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active")


@dataclass
class LiveSite:
    """The running site: its URL, its database, the grid worker's grid and the users."""

    url: str
    engine: Engine
    app: FastAPI
    grid_code: str
    neighbour_code: str
    users: dict[str, str] = field(default_factory=dict)  # role → username

    @contextlib.contextmanager
    def base_map(self, maps: MapSettings) -> Iterator[None]:
        """Serve the pages with another base-map setting for the duration."""
        state = self.app.state
        before = state.map_settings
        state.map_settings, state.basemap = maps, None
        try:
            yield
        finally:
            state.map_settings, state.basemap = before, None

    def scalar(self, query: str, **params: Any) -> Any:
        """One value from the site's database."""
        with self.engine.connect() as conn:
            return conn.execute(text(query), params).scalar_one()


def _points_inside(geojson: str, n: int) -> list[tuple[float, float]]:
    """n distinct points well inside a cell (a lattice over its bounds, kept if inside)."""
    poly = shape(json.loads(geojson))
    inner = poly.buffer(-0.0003) if not poly.buffer(-0.0003).is_empty else poly
    minx, miny, maxx, maxy = inner.bounds
    points: list[tuple[float, float]] = []
    steps = 12
    for i in range(1, steps):
        for j in range(1, steps):
            x = minx + (maxx - minx) * i / steps
            y = miny + (maxy - miny) * j / steps
            if inner.contains(shape({"type": "Point", "coordinates": (x, y)})):
                points.append((round(x, 6), round(y, 6)))
    assert len(points) >= n, "the cell is too small for the test's cases"
    step = max(1, len(points) // n)
    return points[::step][:n]


def _case(external_id: str, day: str, category: str, point: tuple[float, float],
          name: str) -> CaseIn:
    return CaseIn.model_validate({
        "external_id": external_id, "received_at": f"{day}T09:00:00+08:00",
        "category": category, "content": "浏览器测试案件", "channel": "visit",
        "petitioners": [{"name": name}], "address": "中山区测试路1号3单元502室",
        "location": {"lon": point[0], "lat": point[1], "crs": "wgs84"}})


def _load(session: Session) -> tuple[str, str]:
    """Boundaries, reference data, cases and users; the worker's grid and a neighbour."""
    reports = load_demo_boundaries(session, GeoSettings())
    assert all(r.ok for r in reports), "\n".join(r.format() for r in reports)
    load_reference_data(session)
    ensure_area_units(session)
    grids = {r.code: r.geom for r in session.execute(text(ACTIVE_GRIDS + " ORDER BY gc.code"))}
    codes = sorted(grids)
    grid = codes[len(codes) // 2]
    neighbour = session.execute(text(
        "SELECT n.code FROM grid_cell n JOIN boundary_generation g ON g.id = n.generation_id "
        "AND g.is_active JOIN grid_cell me ON me.code = :code AND me.generation_id = "
        "n.generation_id WHERE n.code <> me.code AND ST_Intersects(n.geom, me.geom) "
        "ORDER BY n.code LIMIT 1"), {"code": grid}).scalar_one()
    far = codes[0] if codes[0] not in (grid, neighbour) else codes[-1]

    mine = _points_inside(grids[grid], 6)
    cases = [
        _case("LIVE-G-1", "2020-06-14", "property", mine[0], "张三"),
        _case("LIVE-G-2", "2020-06-03", "housing", mine[1], "李四"),
        _case("LIVE-G-3", "2020-06-01", "labour", mine[2], "王五"),
        _case("LIVE-G-4", "2020-05-20", "property", mine[3], "赵六"),
        _case("LIVE-G-5", "2020-05-10", "relocation", mine[4], "钱七"),
        _case("LIVE-G-6", "2020-06-10", "property", mine[5], "孙八"),
        *(_case(f"LIVE-N-{i}", d, "property", p, "周九") for i, (d, p) in enumerate(
            zip(("2020-06-12", "2020-05-12"), _points_inside(grids[neighbour], 2),
                strict=True), 1)),
        *(_case(f"LIVE-F-{i}", d, "housing", p, "吴十") for i, (d, p) in enumerate(
            zip(("2020-06-11", "2020-05-15", "2020-04-20"), _points_inside(grids[far], 3),
                strict=True), 1)),
    ]
    ids, _ = create_cases(session, cases, None, CaseSettings())
    by_ext = dict(zip((c.external_id for c in cases), ids, strict=True))
    tick(session, NOW)  # registration deadlines; a 督办 for every overdue one
    admin = scope_for("live_admin", "admin")
    version = session.execute(text("SELECT version FROM petition_case WHERE id = :id"),
                              {"id": by_ext["LIVE-G-6"]}).scalar_one()
    apply_transition(session, admin, by_ext["LIVE-G-6"], "redirect", version,
                     {"reason": "litigation"}, now=NOW)
    # A relocation project over most of the worker's grid: a project hotspot with its cases.
    save_project(session, {
        "code": "LIVE-P1", "name": "测试回迁项目", "project_type": "relocation",
        "households": 120, "geometry": mapping(shape(json.loads(grids[grid])).buffer(-0.0002))},
        geo_settings=GeoSettings(), settings=HotspotSettings())
    # 包案: a district leader owns one open case of the grid and one elsewhere.
    session.execute(text("UPDATE petition_case SET leader = '王区长' WHERE external_id IN "
                         "('LIVE-G-5', 'LIVE-F-2')"))
    create_user(session, "live_wangge", "grid_worker", password=PASSWORD, grid_codes=[grid],
                display_name="测试网格员")
    create_user(session, "live_zhihui", "commander", password=PASSWORD,
                display_name="测试指挥中心")
    create_user(session, "live_danwei", "unit_handler", password=PASSWORD,
                unit_id=session.execute(text("SELECT min(id) FROM unit")).scalar_one())
    return grid, neighbour


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def serve_live_site(test_database_url: str, security: SecuritySettings,
                    maps: MapSettings | None = None) -> Iterator[LiveSite]:
    """Create, fill and serve the site's database next to the test database; drop it after."""
    base = make_url(test_database_url)
    name = f"{base.database}_live"
    url = base.set(database=name).render_as_string(hide_password=False)
    admin_url = base.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(url)
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    try:
        upgrade(url)
        with Session(engine) as session:
            grid, neighbour = _load(session)
            session.commit()
        app = create_app(AppSettings(database_url=url, security=security,
                                     maps=maps or MapSettings()))
        app.dependency_overrides[get_now] = lambda: NOW
        sock = _free_socket()
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        port = sock.getsockname()[1]
        yield LiveSite(f"http://127.0.0.1:{port}", engine, app, grid, neighbour,
                       {"grid_worker": "live_wangge", "commander": "live_zhihui",
                        "unit_handler": "live_danwei"})
    finally:
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout=30)
        engine.dispose()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def chromium_or_skip() -> Any:
    """Playwright's sync API, or a skip (a failure under CI) when Chromium is missing."""
    import pytest

    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} missing (gridmap system test-deps installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return sync_api


@dataclass
class PageWatch:
    """What a browser page did: every URL it asked for, console errors, failed responses."""

    requested: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)

    def other_hosts(self) -> list[str]:
        """Requests to any host but the site's own."""
        from urllib.parse import urlsplit

        return [u for u in self.requested if urlsplit(u).scheme not in ("data", "blob")
                and urlsplit(u).hostname != "127.0.0.1"]


def watched_page(browser: Any, viewport: dict[str, int], **options: Any) -> tuple[Any, PageWatch]:
    """A new page that records requests, console messages and failed responses, and never lets
    a request leave the machine (other hosts are aborted, and recorded)."""
    from urllib.parse import urlsplit

    context = browser.new_context(viewport=viewport, locale="zh-CN", **options)
    page = context.new_page()
    watch = PageWatch()

    def only_this_host(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            route.abort()

    page.route("**/*", only_this_host)
    page.on("request", lambda req: watch.requested.append(req.url))
    page.on("console", lambda msg: (watch.errors if msg.type == "error" else watch.warnings
                                    if msg.type == "warning" else []).append(msg.text))
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    page.on("response", lambda resp: watch.bad_responses.append(f"{resp.status} {resp.url}")
            if resp.status >= 400 else None)
    return page, watch


def log_in(page: Any, site: LiveSite, role: str, next_path: str) -> None:
    """Log in through the login page (it sets the cookie) and follow it to `next_path`."""
    page.goto(f"{site.url}/login?next={next_path}")
    page.fill("input[name=username]", site.users[role])
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/login" not in page.url, "the login failed"


def click_free_spot(page: Any, selector: str) -> None:
    """Click a point of the element that nothing else covers (pins and labels sit on cells)."""
    spot = page.evaluate("""(selector) => {
        const el = document.querySelector(selector);
        const r = el.getBoundingClientRect();
        for (let i = 1; i < 12; i++) for (let j = 1; j < 12; j++) {
            const x = r.left + r.width * i / 12, y = r.top + r.height * j / 12;
            if (document.elementFromPoint(x, y) === el) return [x, y];
        }
        return null;
    }""", selector)
    assert spot, f"no free spot on {selector}"
    page.mouse.click(spot[0], spot[1])
