"""Hotspot layers through the API on a hand-made 7×7 lattice, then on the real demo year.

Lattice: a planted hotspot (four adjacent cells with many cases among quiet ones) is classed
hot at 99 %; per-grid, 社区 and 街道 counts equal direct counts (with filters, submissions,
persons, open, overdue, trend); suppression hides small cells for a grid worker and not for a
commander; DBSCAN cluster ids are identical across runs. Demo: the relocation site 华联宾馆地块
is the district's top project hotspot, live and materialised.

The demo year is loaded once, at the end of the module (the lattice tests run before it:
loading it holds the project import lock until the module is done).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from api.deps import get_now
from geo.access.scope import scope_for
from geo.cases.reference import load_reference_data
from geo.cases.schema import CHINA_TZ
from geo.demo.cases import ENTERPRISE, RELOCATION_SITE, generate_demo_year
from geo.demo.projects import DEMO_PROJECTS, demo_project_features, load_demo_projects
from geo.geocode.gazetteer import build_gazetteer
from geo.hotspots.aggregates import HotspotQuery, hotspot_window
from geo.hotspots.layer import hotspot_layer
from geo.privacy.crypto import PersonalDataCipher
from geo.settings import GeoSettings, HotspotSettings
from tests.hotspot_world import Lattice, add_case, at, load_lattice

PROPERTIES = {"level", "code", "name", "cases", "submissions", "persons", "open", "overdue",
              "repeat", "collective", "households", "per_1000_households", "trend", "change",
              "gi_z", "gi_p", "gi_class", "suppressed"}
YEAR = "from=2020-01-01&to=2021-01-01"
TODAY = datetime(2020, 12, 31, 10, 0, tzinfo=CHINA_TZ)


@dataclass
class World:
    """The lattice with its session and the app (clock fixed to TODAY)."""

    session: Session
    lat: Lattice
    login_as: Callable[..., TestClient]


@pytest.fixture
def world(session: Session, app: FastAPI, tmp_path: Path,
          login_as: Callable[..., TestClient]) -> World:
    load_reference_data(session)
    lat = load_lattice(session, tmp_path)
    app.dependency_overrides[get_now] = lambda: TODAY
    return World(session, lat, login_as)


def features_by_code(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f["properties"] for f in body["features"]}


def scatter(w: World, counts: dict[tuple[int, int], int], day: str = "2020-06-01",
            **kw: Any) -> None:
    """counts[(row, col)] cases in each cell, spread over the cell."""
    rng = random.Random(5)
    for (r, c), k in counts.items():
        for _ in range(k):
            lon, lat = w.lat.centre(r, c, rng.uniform(-0.4, 0.4), rng.uniform(-0.4, 0.4))
            add_case(w.session, w.lat.code(r, c), lon, lat, at(day), **kw)


def test_a_planted_hotspot_is_classed_hot_at_99_percent(world: World) -> None:
    n = world.lat.n
    rng = random.Random(11)
    quiet = {(r, c): rng.randint(0, 2) for r in range(n) for c in range(n)}
    block = [(2, 2), (2, 3), (3, 2), (3, 3)]
    counts = {**quiet, **dict.fromkeys(block, 25)}
    scatter(world, counts)
    res = world.login_as("commander").get(f"/hotspots?level=grid&{YEAR}")
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("application/geo+json")
    body = res.json()
    assert body["type"] == "FeatureCollection" and body["numberReturned"] == n * n
    feats = features_by_code(body)
    for cell in block:
        props = feats[world.lat.code(*cell)]
        assert props["gi_class"] == "hot99", props
        assert props["gi_z"] > 2.58 and props["gi_p"] <= 0.01
        assert props["cases"] == 25 and props["suppressed"] is False
    corner = feats[world.lat.code(n - 1, n - 1)]
    assert corner["gi_class"] in ("ns", "cold90", "cold95", "cold99")
    assert set(corner) == PROPERTIES
    assert body["gi"]["permutations"] == 999
    # The same data give the same classes again (fixed seed).
    again = features_by_code(world.login_as("commander").get(f"/hotspots?level=grid&{YEAR}")
                             .json())
    assert {k: v["gi_class"] for k, v in again.items()} == {
        k: v["gi_class"] for k, v in feats.items()}


def test_per_grid_and_area_counts_equal_a_direct_count(world: World) -> None:
    s, lat = world.session, world.lat
    rng = random.Random(3)
    statuses = ["registered", "assigned", "in_progress", "closed", "merged"]
    categories = ["housing", "property", "labour", "relocation"]
    for _ in range(300):
        r, c = rng.randrange(lat.n), rng.randrange(lat.n)
        day = date(2019, 1, 1) + timedelta(days=rng.randrange(730))
        lon, la = lat.centre(r, c, rng.uniform(-0.45, 0.45), rng.uniform(-0.45, 0.45))
        add_case(s, lat.code(r, c), lon, la, at(day.isoformat(), rng.randrange(0, 24)),
                 category=rng.choice(categories), status=rng.choice(statuses),
                 persons=rng.choice([1, 1, 1, 2, 6]), repeat=rng.random() < 0.2)
    # A later visit about an older case: one more 件次 in the window, not one more 案次.
    old = add_case(s, lat.code(0, 0), *lat.centre(0, 0), at("2019-11-05"))
    s.execute(text("INSERT INTO submission (case_id, channel, received_at, persons_count) "
                   "VALUES (:id, 'phone', :at, 3)"), {"id": old, "at": at("2020-03-03")})
    client = world.login_as("commander")
    window = {"from": "2020-01-01T00:00:00+08:00", "to": "2021-01-01T00:00:00+08:00"}

    def direct(where: str = "", **params: Any) -> dict[str, tuple[int, ...]]:
        rows = s.execute(text(
            "SELECT grid_code, count(*), count(*) FILTER (WHERE status NOT IN ('closed',"
            "'redirected','not_accepted','merged','finalized')), count(*) FILTER "
            "(WHERE is_repeat), count(*) FILTER (WHERE is_collective) FROM petition_case "
            f"WHERE received_at >= :f AND received_at < :t {where} GROUP BY 1"),
            {"f": window["from"], "t": window["to"], **params}).all()
        return {r[0]: tuple(r[1:]) for r in rows}

    def measured(body: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        return {p["code"]: (p["cases"], p["open"], p["repeat"], p["collective"])
                for p in features_by_code(body).values() if p["cases"]}

    body = client.get("/hotspots", params={"level": "grid", **window}).json()
    assert measured(body) == direct()
    feats = features_by_code(body)
    subs = s.execute(text(
        "SELECT c.grid_code, count(*), sum(s.persons_count) FROM submission s JOIN "
        "petition_case c ON c.id = s.case_id WHERE s.received_at >= :f AND s.received_at < :t "
        "GROUP BY 1"), {"f": window["from"], "t": window["to"]}).all()
    assert {code: (f["submissions"], f["persons"]) for code, f in feats.items()
            if f["submissions"]} == {r[0]: (r[1], r[2]) for r in subs}
    # Trend: the six years before 2020, oldest first (2014 … 2019); only 2019 has cases.
    trend_2019 = s.execute(text(
        "SELECT grid_code, count(*) FROM petition_case WHERE received_at >= :f AND "
        "received_at < :t GROUP BY 1"), {"f": "2019-01-01T00:00:00+08:00",
                                          "t": window["from"]}).all()
    assert {code: f["trend"] for code, f in feats.items() if any(f["trend"])} == {
        code: [0, 0, 0, 0, 0, n] for code, n in trend_2019}
    p = feats[lat.code(0, 0)]
    assert p["per_1000_households"] == round(1000 * p["cases"] / 400, 2)
    mean = sum(p["trend"]) / 6
    assert p["change"] == (round(p["cases"] / mean - 1, 3) if mean else None)

    # Filters: categories and states (comma lists).
    body = client.get("/hotspots", params={"level": "grid", "category": "housing,labour",
                                           "status": "registered,closed", **window}).json()
    assert measured(body) == direct("AND category_code IN ('housing','labour') "
                                    "AND status IN ('registered','closed')")

    # 社区 and 街道: one feature each, the sums of the cells.
    totals = tuple(map(sum, zip(*direct().values(), strict=True)))
    for level in ("community", "street"):
        feats = features_by_code(client.get("/hotspots", params={"level": level, **window})
                                 .json())
        assert len(feats) == 1
        [only] = feats.values()
        assert (only["cases"], only["open"], only["repeat"], only["collective"]) == totals
        assert only["gi_class"] is None and only["gi_z"] is None
    assert only["households"] == 400 * lat.n * lat.n


def test_overdue_counts_running_obligations_as_of_the_request_day(world: World) -> None:
    s, lat = world.session, world.lat
    ids = [add_case(s, lat.code(1, 1), *lat.centre(1, 1), at("2020-12-01")) for _ in range(6)]
    closed = add_case(s, lat.code(1, 1), *lat.centre(1, 1), at("2020-12-01"), status="closed")
    deadline = text("INSERT INTO case_deadline (case_id, rule, start_date, due_date, days, "
                    "working_days, basis, statutory, active, met_at) VALUES (:id, :rule, "
                    "'2020-12-01', :due, 15, false, 'test', true, :active, :met)")
    for case_id, rule, due, active, met in (
            (ids[0], "routing", "2020-12-16", True, None),            # due before 12-31: overdue
            (ids[1], "local_close", "2020-12-30", True, None),        # local target: overdue
            (ids[2], "objection", "2020-12-08", True, None),          # a window: never overdue
            (ids[3], "routing", "2021-01-05", True, None),            # not yet due
            (ids[4], "routing", "2020-12-16", False, at("2020-12-10")),  # met in time
            (closed, "routing", "2020-12-16", True, None)):           # closed: not open
        s.execute(deadline, {"id": case_id, "rule": rule, "due": due, "active": active,
                             "met": met})
    props = features_by_code(world.login_as("commander").get(
        f"/hotspots?level=grid&{YEAR}").json())[lat.code(1, 1)]
    assert (props["cases"], props["open"], props["overdue"]) == (7, 6, 2)


def test_suppression_hides_small_cells_for_a_grid_worker_and_not_for_a_commander(
        world: World) -> None:
    lat = world.lat
    busy, quiet, other = (0, 0), (0, 1), (5, 5)
    scatter(world, {busy: 9, quiet: 2, other: 3})
    worker = world.login_as("grid_worker", grid_codes=[lat.code(*busy), lat.code(*quiet)])
    body = worker.get(f"/hotspots?level=grid&{YEAR}").json()
    assert body["suppression"] == {"k": 5, "applied": True}
    feats = features_by_code(body)
    assert set(feats) == {lat.code(*busy), lat.code(*quiet)}      # only their own cells
    shown, hidden = feats[lat.code(*busy)], feats[lat.code(*quiet)]
    assert shown["suppressed"] is False and shown["cases"] == 9
    assert hidden["suppressed"] is True
    assert all(hidden[k] is None for k in ("cases", "submissions", "persons", "open",
                                           "overdue", "repeat", "collective", "trend",
                                           "change", "per_1000_households", "gi_class"))
    assert hidden["code"] == lat.code(*quiet) and hidden["households"] == 400
    # The 社区 a grid worker sees counts only their own cases.
    [community] = features_by_code(worker.get(f"/hotspots?level=community&{YEAR}").json()
                                   ).values()
    assert community["cases"] == 11

    commander = features_by_code(world.login_as("commander").get(
        f"/hotspots?level=grid&{YEAR}").json())
    assert len(commander) == lat.n * lat.n
    assert commander[lat.code(*quiet)]["cases"] == 2
    assert commander[lat.code(*quiet)]["suppressed"] is False
    assert commander[lat.code(*other)]["cases"] == 3
    # A registrar is below commander level too.
    registrar = features_by_code(world.login_as("registrar").get(
        f"/hotspots?level=grid&{YEAR}").json())
    assert registrar[lat.code(*other)]["suppressed"] is True


def test_restricted_cases_count_only_for_roles_that_see_them(world: World) -> None:
    scatter(world, {(3, 3): 6}, category="accusation")
    code = world.lat.code(3, 3)
    commander = features_by_code(world.login_as("commander").get(
        f"/hotspots?level=grid&{YEAR}").json())
    discipline = features_by_code(world.login_as("discipline").get(
        f"/hotspots?level=grid&{YEAR}").json())
    assert (commander[code]["cases"], discipline[code]["cases"]) == (0, 6)


def test_dbscan_cluster_ids_are_identical_across_runs(world: World) -> None:
    s, lat = world.session, world.lat
    rng = random.Random(8)
    groups = [((1, 1), 30, "housing"), ((5, 4), 12, "labour"), ((3, 6), 6, "property")]
    points: list[tuple[tuple[int, int], float, float, str]] = []
    for cell, k, category in groups:
        cx, cy = lat.centre(*cell)
        points += [(cell, cx + rng.uniform(-4e-4, 4e-4), cy + rng.uniform(-4e-4, 4e-4),
                    category) for _ in range(k)]
    for r in range(lat.n):                       # sparse noise, one per cell, off-centre
        points.append(((r, 0), *lat.centre(r, 0, 0.3, 0.3), "other"))
    rng.shuffle(points)
    for cell, lon, la, category in points:
        add_case(s, lat.code(*cell), lon, la, at("2020-05-05"), category=category)
    client = world.login_as("commander")
    url = f"/hotspots/clusters?{YEAR}&eps=100&minpoints=5"
    first, second = client.get(url), client.get(url)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("application/geo+json")
    assert first.json() == second.json()
    feats = first.json()["features"]
    assert [f["properties"]["cases"] for f in feats] == [30, 12, 6]
    assert [f["properties"]["cluster_id"] for f in feats] == [1, 2, 3]
    assert [f["properties"]["dominant_category"] for f in feats] == [
        "housing", "labour", "property"]
    assert feats[1]["properties"]["dominant_category_name"] == "劳动社保/欠薪"
    assert all(f["geometry"]["type"] == "Polygon" for f in feats)
    # A grid worker's scope: only their cases, and clusters below k are left out.
    worker = world.login_as("grid_worker", grid_codes=[lat.code(3, 6)])
    mine = worker.get(f"/hotspots/clusters?{YEAR}&eps=100&minpoints=3").json()["features"]
    assert [f["properties"]["cases"] for f in mine] == [6]
    mine = worker.get(f"/hotspots/clusters?{YEAR}&eps=100&minpoints=3&category=labour").json()
    assert mine["features"] == []


@pytest.mark.parametrize(("eps", "minpoints"), [(100.0, 5), (60.0, 3), (150.0, 8)])
def test_dbscan_clusters_equal_st_clusterdbscan(world: World, eps: float,
                                                minpoints: int) -> None:
    """The grid DBSCAN's clusters (ids, counts, dominant category, hull) are those of the
    one-statement ST_ClusterDBSCAN reference (geo/sql/hotspot_clusters.sql)."""
    from geo.hotspots.clusters import ClusterQuery, cluster_rows
    from geo.sql_files import sql

    s, lat = world.session, world.lat
    rng = random.Random(11)
    cats = ["housing", "labour", "property", "other"]
    for _ in range(400):        # blobs that touch, thin bridges and noise over the lattice
        r, c = rng.choice([(1, 1), (1, 2), (4, 4), (5, 1), (3, 6)])
        lon, la = lat.centre(r, c, rng.gauss(0, 0.15), rng.gauss(0, 0.15))
        add_case(s, lat.code(r, c), lon, la, at("2020-05-05"), category=rng.choice(cats))
    for _ in range(150):
        r, c = rng.randrange(lat.n), rng.randrange(lat.n)
        lon, la = lat.centre(r, c, rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5))
        add_case(s, lat.code(r, c), lon, la, at("2020-07-07"), category=rng.choice(cats))
    scope = scope_for("commander", "commander")
    window = hotspot_window(date(2020, 1, 1), date(2021, 1, 1), TODAY.date())
    got = cluster_rows(s, scope, ClusterQuery(window, eps, minpoints), "EPSG:4550")
    reference = [dict(r) for r in s.execute(sql("hotspot_clusters"), {
        **scope.params(), "metric_srid": 4550, "date_from": window.date_from,
        "date_to": window.date_to, "category": None, "status": None, "eps": eps,
        "minpoints": minpoints}).mappings()]
    assert len(got) > 1
    assert got == reference
    # with filters too
    query = ClusterQuery(window, eps, minpoints, categories=("housing", "labour"))
    reference = [dict(r) for r in s.execute(sql("hotspot_clusters"), {
        **scope.params(), "metric_srid": 4550, "date_from": window.date_from,
        "date_to": window.date_to, "category": ["housing", "labour"], "status": None,
        "eps": eps, "minpoints": minpoints}).mappings()]
    assert cluster_rows(s, scope, query, "EPSG:4550") == reference


def test_project_level_counts_attached_cases(world: World, session: Session) -> None:
    from geo.projects.attach import attach_cases
    from geo.projects.store import upsert_projects
    from geo.projects.validate import ProjectRow

    lat = world.lat
    scatter(world, {(2, 2): 7})
    scatter(world, {(6, 6): 2}, content="某某回迁项目回迁户要求安置")
    [pid], _ = upsert_projects(session, [
        ProjectRow("T-1", "某某回迁项目", "relocation", lat.cell(2, 2), households=70,
                   keywords=["某某回迁"])])
    attach_cases(session, "EPSG:4550")
    feats = features_by_code(world.login_as("commander").get(
        f"/hotspots?level=project&{YEAR}").json())
    assert feats["T-1"]["cases"] == 9 and feats["T-1"]["households"] == 70
    assert feats["T-1"]["per_1000_households"] == round(9000 / 70, 2)
    assert feats["T-1"]["name"] == "某某回迁项目" and feats["T-1"]["level"] == "project"


@pytest.mark.parametrize(("query", "field"), [
    ("level=parish", "level"), ("from=2021-01-01&to=2020-01-01", "to"),
    ("category=nonsense", "category"), ("status=sleeping", "status"),
    ("from=2000-01-01&to=2020-01-01", "to"), ("from=yesterday", "from"),
])
def test_bad_parameters_are_422_naming_the_field(world: World, query: str, field: str) -> None:
    res = world.login_as("commander").get(f"/hotspots?{query}")
    assert res.status_code == 422, res.text
    assert field in json.dumps(res.json()["detail"])


@pytest.mark.parametrize("query", ["eps=0", "eps=99999", "minpoints=1", "eps=abc"])
def test_bad_cluster_parameters_are_422(world: World, query: str) -> None:
    res = world.login_as("commander").get(f"/hotspots/clusters?{query}")
    assert res.status_code == 422, res.text


def test_the_default_window_is_the_last_12_months_to_the_clocks_day() -> None:
    w = hotspot_window(None, None, date(2020, 12, 31))
    assert (w.date_from.isoformat(), w.date_to.isoformat()) == (
        "2020-01-01T00:00:00+08:00", "2021-01-01T00:00:00+08:00")
    w = hotspot_window(None, None, date(2021, 2, 28))
    assert w.date_from.date() == date(2020, 3, 1)
    assert hotspot_window(date(2020, 3, 1), None, date(2020, 3, 31)).length == timedelta(days=31)


def test_output_can_be_shifted_for_chinese_base_maps(world: World) -> None:
    from geo import crs as gcrs

    scatter(world, {(2, 2): 6})
    client = world.login_as("commander")
    plain = client.get(f"/hotspots?level=street&{YEAR}").json()
    shifted = client.get(f"/hotspots?level=street&{YEAR}&crs=gcj02").json()
    assert (plain["crs"], shifted["crs"]) == ("wgs84", "gcj02")
    lon, lat = plain["features"][0]["geometry"]["coordinates"][0][0][0]
    gx, gy = gcrs.wgs84_to_gcj02(lon, lat)
    assert shifted["features"][0]["geometry"]["coordinates"][0][0][0] == pytest.approx(
        [float(gx), float(gy)], abs=2e-7)
    assert shifted["features"][0]["properties"] == plain["features"][0]["properties"]
    res = client.get(f"/hotspots/clusters?{YEAR}&crs=bd09&minpoints=3")
    assert res.status_code == 200 and res.json()["crs"] == "bd09"
    assert client.get("/hotspots?crs=mars").status_code == 422


def test_hotspots_need_a_login(anon_client: TestClient) -> None:
    assert anon_client.get("/hotspots").status_code == 401


# --- the real demo year (loaded once, last) -------------------------------------------------

@dataclass
class Demo:
    """The demo year in a transaction rolled back after the module."""

    session: Session
    refresh_lines: list[str]


@pytest.fixture(scope="module")
def demo(engine: Engine, zhongshan: None) -> Iterator[Demo]:
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
                load_reference_data(session)
                build_gazetteer(session)
                generate_demo_year(session, 2020, cipher=PersonalDataCipher(bytes(range(32))))
                lines = load_demo_projects(session, GeoSettings(), 2020)
                yield Demo(session, lines)
        finally:
            trans.rollback()


def test_the_committed_project_file_matches_the_demo_gazetteer(demo: Demo) -> None:
    committed = json.loads(DEMO_PROJECTS.read_text(encoding="utf-8"))["features"]
    assert committed == demo_project_features(demo.session)
    assert all(f["properties"]["approximate"] is True for f in committed)
    hualian = next(f for f in committed if f["properties"]["name"] == RELOCATION_SITE)
    assert hualian["properties"]["households"] == 120
    assert "法治日报" in hualian["properties"]["households_source"]


def test_the_relocation_site_is_the_districts_top_project_hotspot(demo: Demo) -> None:
    s = demo.session
    query = HotspotQuery("project", hotspot_window(date(2020, 1, 1), date(2021, 1, 1),
                                                   date(2020, 12, 31)))
    layer = hotspot_layer(s, scope_for("zhihui", "commander"), query, date(2020, 12, 31),
                          HotspotSettings())
    ranked = sorted(layer["features"], key=lambda f: -f["properties"]["cases"])
    top = ranked[0]["properties"]
    assert top["name"] == RELOCATION_SITE
    assert top["cases"] >= 150 and top["cases"] > 1.5 * ranked[1]["properties"]["cases"]
    assert top["collective"] >= 5 and top["repeat"] >= 20
    assert top["per_1000_households"] == round(1000 * top["cases"] / 120, 2)
    names = [f["properties"]["name"] for f in ranked]
    assert ENTERPRISE in names[:3]
    # Materialised by the refresh the demo load runs: the same top project.
    stored = s.execute(text("SELECT name, cases FROM hotspot_stat WHERE level = 'project' "
                            "ORDER BY cases DESC, code LIMIT 1")).one()
    assert (stored.name, stored.cases) == (RELOCATION_SITE, top["cases"])
    assert any(RELOCATION_SITE in line for line in demo.refresh_lines)
    # Every story case is attached, most by buffer (they are placed at the site), the rest by
    # keyword (the content names it).
    methods = Counter(r.method for r in s.execute(text(
        "SELECT cp.method FROM case_project cp JOIN project p ON p.id = cp.project_id "
        "JOIN petition_case c ON c.id = cp.case_id WHERE p.name = :n "
        "AND c.properties->>'demo_cluster' = :n"), {"n": RELOCATION_SITE}))
    story = s.execute(text("SELECT count(*) FROM petition_case WHERE "
                           "properties->>'demo_cluster' = :n"), {"n": RELOCATION_SITE}).scalar()
    assert sum(methods.values()) == story and methods["buffer"] > 0


def test_demo_per_grid_counts_equal_a_direct_count(demo: Demo) -> None:
    s = demo.session
    query = HotspotQuery("grid", hotspot_window(date(2020, 1, 1), date(2021, 1, 1),
                                                date(2020, 12, 31)))
    layer = hotspot_layer(s, scope_for("zhihui", "commander"), query, date(2020, 12, 31),
                          HotspotSettings())
    measured = {f["id"]: f["properties"]["cases"] for f in layer["features"]
                if f["properties"]["cases"]}
    direct = dict(s.execute(text(
        "SELECT c.grid_code, count(*) FROM petition_case c JOIN category cat ON "
        "cat.code = c.category_code WHERE NOT cat.restricted AND c.grid_code IS NOT NULL "
        "GROUP BY 1")).all())
    assert measured == direct
    assert len(layer["features"]) == 396
    hot = [f["properties"] for f in layer["features"]
           if f["properties"]["gi_class"] == "hot99"]
    assert hot, "the demo year has 99 % hot cells"
    site_grid = s.execute(text(
        "SELECT c.grid_code FROM petition_case c WHERE c.properties->>'demo_cluster' = :n "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"), {"n": RELOCATION_SITE}).scalar()
    assert max(measured, key=lambda k: measured[k]) == site_grid
    # Gi* marks the cluster around the site: hot cells in the site's 社区 (青泥, 210202008004).
    # The site's own cell is tested on its neighbours (conditional permutation keeps its own
    # count fixed), so the hot ones are the cells whose neighbourhood holds the site.
    assert {h["code"][:12] for h in hot} >= {site_grid[:12]}
