"""The OGC `cases` collection on the hand-made squares: the contract's properties, masking, deadline
bands for the request clock (and the SQL band filter agreeing with warning_band day by day),
every filter, the role scope inside the query, paging, CRS shift and the configurable page cap.

The clock is fixed at Mon 2020-05-11 10:00 China time (get_now overridden). Cases, with their
deadlines and 督办 written by hand so every band is known:

  a  grid 5, 物业, registered; local target due 05-10 (red), routing due 05-13 (yellow), an
     objection window due 05-08 (a right, ignored); an open 督办; leader 李区长 (by name)
  b  grid 5, 住建, accepted, routed to unit A; handling due 05-21 (green), an earlier routing
     deadline met (inactive, ignored); a closed 督办
  c  grid 1, 劳动社保, closed; no deadline
  d  grid 9, 检举控告 (restricted), registered; no deadline
  e  no location (needs_location): never a feature
  f  grid 2, 物业, received 2020-04-01, in_progress; local due 05-11, statutory 05-12 (orange);
     leader 王局长 (a staff row)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.app import AppSettings, create_app
from api.deps import get_now, get_session
from geo import crs as gcrs
from geo.access.keys import Keys
from geo.access.tokens import issue_token
from geo.access.users import create_user
from geo.cases.intake import create_cases
from geo.cases.reference import load_reference_data
from geo.cases.schema import CHINA_TZ, CaseIn, LocationIn, PetitionerIn
from geo.ogc.cases import band_of
from geo.privacy.crypto import PersonalDataCipher
from geo.settings import CaseSettings, LimitSettings
from geo.workflow.deadlines import warning_band
from tests.squares import COMMUNITY, STEP, STREET, X0, Y0, grid_code, load_squares, square

GEOJSON = "application/geo+json"
DAY = date(2020, 5, 11)
NOW = datetime(2020, 5, 11, 10, 0, tzinfo=CHINA_TZ)
ITEMS = "/collections/cases/items"


def centre(serial: int) -> tuple[float, float]:
    """The centre of square `serial`."""
    c = square(serial).centroid
    return float(c.x), float(c.y)


@dataclass
class Clock:
    """The time every request acts at."""

    now: datetime


@dataclass
class World:
    """The squares with cases a–f (see the module docstring) and a fixed clock."""

    session: Session
    clock: Clock
    ids: dict[str, int]
    unit_a: int
    login_as: Callable[..., TestClient]

    def key(self, case_id: int) -> str:
        return next(k for k, v in self.ids.items() if v == case_id)


def _deadline(session: Session, case_id: int, rule: str, due: date, *, statutory: bool,
              active: bool = True) -> None:
    session.execute(text(
        "INSERT INTO case_deadline (case_id, rule, start_date, due_date, days, working_days, "
        "basis, statutory, active, met_at) VALUES (:c, :r, :s, :d, 15, false, 'test', :st, "
        ":a, CASE WHEN :a THEN NULL ELSE now() END)"),
        {"c": case_id, "r": rule, "s": due - timedelta(days=15), "d": due, "st": statutory,
         "a": active})


def _supervision(session: Session, case_id: int, *, closed: bool) -> None:
    session.execute(text(
        "INSERT INTO supervision (case_id, reason, opened_by, opened_at, feedback_due, "
        "feedback, feedback_at, accepted_by, accepted_at, closed_at) VALUES (:c, 'manual', "
        "'registrar', '2020-05-08T10:00:00+08', '2020-05-15', :fb, :at, :by, :at, :at)"),
        {"c": case_id, "fb": "已整改" if closed else None,
         "at": NOW - timedelta(days=1) if closed else None, "by": "registrar" if closed else None})


def make_world(session: Session, tmp_path: Path, app: Any, cipher: PersonalDataCipher,
               login_as: Callable[..., TestClient]) -> World:
    """Cases a–f on the squares, the app's clock fixed at NOW (test_tiles.py uses it too)."""
    load_squares(session, tmp_path)
    load_reference_data(session)
    received = datetime(2020, 5, 6, 9, 30, tzinfo=CHINA_TZ)

    def case(serial: int | None, category: str, **kw: Any) -> CaseIn:
        return CaseIn(channel="visit", received_at=kw.pop("received_at", received),
                      category=category, content="楼道灯坏了三个月无人修",
                      location=(None if serial is None else
                                LocationIn(lon=centre(serial)[0], lat=centre(serial)[1])),
                      **kw)

    specs = {
        "a": case(5, "property", external_id="T-A", address="人民路28号3单元502室",
                  petitioners=[PetitionerIn(name="张三", id_number="210202199001011232",
                                            phone="13800005678"),
                               PetitionerIn(name="欧阳小明")]),
        "b": case(5, "housing", external_id="T-B", persons_count=3),
        "c": case(1, "labour", external_id="T-C", petitioners=[PetitionerIn(name="李四")]),
        "d": case(9, "accusation", external_id="T-D"),
        "e": case(None, "property", external_id="T-E", address="某某路"),
        "f": case(2, "property", external_id="T-F",
                  received_at=datetime(2020, 4, 1, 8, 0, tzinfo=CHINA_TZ)),
    }
    ids, _ = create_cases(session, list(specs.values()), None, CaseSettings(), cipher=cipher)
    by_key = dict(zip(specs, ids, strict=True))
    unit_a = int(session.scalar(text("SELECT id FROM unit WHERE code = 'zs-zjj'")))
    staff = int(session.scalar(text("INSERT INTO staff (name) VALUES ('王局长') RETURNING id")))
    session.execute(text("UPDATE petition_case SET leader = '李区长' WHERE id = :i"),
                    {"i": by_key["a"]})
    session.execute(text("UPDATE petition_case SET status = 'accepted', routed_unit_id = :u "
                         "WHERE id = :i"), {"i": by_key["b"], "u": unit_a})
    session.execute(text("UPDATE petition_case SET status = 'closed' WHERE id = :i"),
                    {"i": by_key["c"]})
    session.execute(text("UPDATE petition_case SET status = 'in_progress', leader_staff_id = :s"
                         " WHERE id = :i"), {"i": by_key["f"], "s": staff})
    _deadline(session, by_key["a"], "local_close", date(2020, 5, 10), statutory=False)
    _deadline(session, by_key["a"], "routing", date(2020, 5, 13), statutory=True)
    _deadline(session, by_key["a"], "objection", date(2020, 5, 8), statutory=False)
    _supervision(session, by_key["a"], closed=False)
    _deadline(session, by_key["b"], "handling", date(2020, 5, 21), statutory=True)
    _deadline(session, by_key["b"], "routing", date(2020, 5, 9), statutory=True, active=False)
    _supervision(session, by_key["b"], closed=True)
    _deadline(session, by_key["f"], "local_close", date(2020, 5, 11), statutory=False)
    _deadline(session, by_key["f"], "acceptance_notice", date(2020, 5, 12), statutory=True)
    session.flush()
    clock = Clock(NOW)
    app.dependency_overrides[get_now] = lambda: clock.now
    return World(session, clock, by_key, unit_a, login_as)


@pytest.fixture
def world(session: Session, tmp_path: Path, app: Any, cipher: PersonalDataCipher,
          login_as: Callable[..., TestClient]) -> World:
    """The squares with cases a–f and the clock at NOW."""
    return make_world(session, tmp_path, app, cipher, login_as)


def _page(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get(ITEMS, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == GEOJSON
    body: dict[str, Any] = r.json()
    return body


def _keys(world: World, client: TestClient, **params: Any) -> set[str]:
    page = _page(client, limit=100, **params)
    assert page["numberMatched"] == page["numberReturned"] == len(page["features"])
    return {world.key(f["id"]) for f in page["features"]}


# --- the features -----------------------------------------------------------------------------


def test_a_case_is_a_point_with_the_contracts_properties_masked_and_banded(
        world: World, client: TestClient) -> None:
    page = _page(client)
    assert page["numberMatched"] == 5  # e has no location
    assert [f["id"] for f in page["features"]] == sorted(
        world.ids[k] for k in "abcdf")
    a = next(f for f in page["features"] if f["id"] == world.ids["a"])
    assert a["type"] == "Feature"
    assert a["geometry"]["type"] == "Point"
    assert a["geometry"]["coordinates"] == pytest.approx(list(centre(5)), abs=1e-7)
    assert a["properties"] == {
        "id": world.ids["a"], "external_id": "T-A", "received_at": "2020-05-06T09:30:00+08:00",
        "channel": "visit", "category": "property", "category_name": "物业",
        "status": "registered", "status_label": "登记",
        "grid_code": grid_code(5), "community_code": COMMUNITY, "community_name": "测试社区居委会",
        "street_code": STREET, "street_name": "测试街道", "persons_count": 2,
        "is_repeat": False, "is_collective": False,
        "address": "人民路28号", "petitioner": "张*、欧阳**",
        # The objection window (05-08) is a right, not an obligation: the earliest running
        # obligation is the local target.
        "due_date": "2020-05-10", "due_rule": "local_close",
        "band": "red", "local_band": "red", "statutory_band": "yellow", "overdue": True,
        "supervised": True, "leader": "李区长"}
    by_key = {world.key(f["id"]): f["properties"] for f in page["features"]}
    # The met routing deadline of b is ignored; its 督办 is closed.
    assert {k: (p["due_date"], p["due_rule"], p["band"], p["local_band"], p["statutory_band"],
                p["overdue"], p["supervised"], p["leader"], p["petitioner"])
            for k, p in by_key.items()} == {
        "a": ("2020-05-10", "local_close", "red", "red", "yellow", True, True, "李区长",
              "张*、欧阳**"),
        "b": ("2020-05-21", "handling", "green", "none", "green", False, False, None, None),
        "c": (None, None, "none", "none", "none", False, False, None, "李*"),
        "d": (None, None, "none", "none", "none", False, False, None, None),
        "f": ("2020-05-11", "local_close", "orange", "orange", "orange", False, False, "王局长",
              None),
    }
    assert by_key["c"]["status_label"] == "结案" and by_key["b"]["persons_count"] == 3
    # Nothing personal beyond the masked forms.
    raw = str(page)
    assert "张三" not in raw and "欧阳小明" not in raw and "502" not in raw
    assert "13800005678" not in raw and "210202199001011232" not in raw


def test_item_by_id_is_the_listed_feature(world: World, client: TestClient) -> None:
    listed = {f["id"]: f for f in _page(client)["features"]}
    r = client.get(f"{ITEMS}/{world.ids['f']}")
    assert r.status_code == 200 and r.headers["content-type"] == GEOJSON
    one = r.json()
    assert (one["properties"], one["geometry"]) == (
        listed[world.ids["f"]]["properties"], listed[world.ids["f"]]["geometry"])
    r = client.get(f"{ITEMS}/{world.ids['e']}")
    assert r.status_code == 404  # no location, no feature


def test_bands_are_computed_for_the_request_clock(world: World, client: TestClient) -> None:
    world.clock.now = datetime(2020, 5, 1, 10, tzinfo=CHINA_TZ)
    a = next(f["properties"] for f in _page(client)["features"] if f["id"] == world.ids["a"])
    assert (a["due_date"], a["band"], a["local_band"], a["statutory_band"], a["overdue"]) == (
        "2020-05-10", "green", "green", "green", False)
    # 23:30 UTC on 05-09 is already 05-10 in China: the local target's due day, orange.
    world.clock.now = datetime(2020, 5, 9, 23, 30, tzinfo=UTC)
    a = next(f["properties"] for f in _page(client)["features"] if f["id"] == world.ids["a"])
    assert (a["band"], a["local_band"], a["statutory_band"]) == ("orange", "orange", "yellow")


def test_band_filter_agrees_with_warning_band_on_every_day(world: World,
                                                           client: TestClient) -> None:
    """The SQL filter mirrors warning_band with bound thresholds: pinned day by day over
    24 days around the cases' due dates (05-10 … 05-21), every band and overdue."""
    for offset in range(-12, 12):
        today = DAY + timedelta(days=offset)
        world.clock.now = datetime.combine(today, datetime.min.time(), CHINA_TZ).replace(
            hour=10)
        bands = {world.key(f["id"]): f["properties"]["band"]
                 for f in _page(client)["features"]}
        for band in ("green", "yellow", "orange", "red", "none"):
            expected = {k for k, b in bands.items() if b == band}
            assert _keys(world, client, band=band) == expected, (today, band)
        assert _keys(world, client, overdue="true") == {k for k, b in bands.items()
                                                         if b == "red"}
        assert bands["b"] == warning_band(date(2020, 5, 21), today)
        assert bands["a"] == band_of("2020-05-10", today)


# --- filters ----------------------------------------------------------------------------------


FILTERS: list[tuple[dict[str, str], str]] = [
    ({}, "abcdf"),
    ({"status": "registered"}, "ad"),
    ({"status": "accepted,in_progress"}, "bf"),
    ({"category": "property"}, "af"),
    ({"category": "property,housing"}, "abf"),
    ({"grid_code": grid_code(5)}, "ab"),
    ({"community_code": COMMUNITY}, "abcdf"),
    ({"street_code": STREET}, "abcdf"),
    ({"street_code": "210202009000"}, ""),
    ({"open": "true"}, "abdf"),
    ({"open": "false"}, "c"),
    ({"band": "red"}, "a"),
    ({"band": "none"}, "cd"),
    ({"band": "orange,green"}, "bf"),
    ({"overdue": "true"}, "a"),
    ({"overdue": "false"}, "bcdf"),
    ({"supervised": "true"}, "a"),
    ({"supervised": "false"}, "bcdf"),
    ({"leader": "true"}, "af"),
    ({"leader": "false"}, "bcd"),
    ({"leader": "李区长"}, "a"),
    ({"leader": "王局长"}, "f"),
    ({"datetime": "2020-04-01"}, "f"),
    ({"datetime": "2020-05-01/.."}, "abcd"),
    ({"datetime": "../2020-05-06T09:00:00+08:00"}, "f"),
    ({"bbox": ",".join(map(str, square(5).bounds))}, "ab"),
    ({"open": "true", "band": "red,orange", "grid_code": grid_code(2)}, "f"),
]


def test_filters(world: World, client: TestClient) -> None:
    # One world for the whole table: the squares take a second to load.
    for params, expected in FILTERS:
        assert _keys(world, client, **params) == set(expected), params


BAD_FILTERS: list[tuple[dict[str, str], str]] = [
    ({"status": "flying"}, "status"),
    ({"status": ","}, "status"),
    ({"band": "purple"}, "band"),
    ({"band": "red,blue"}, "band"),
    ({"open": "maybe"}, "open"),
    ({"overdue": "2"}, "overdue"),
    ({"supervised": "yes"}, "supervised"),
    ({"grid_type": "综合网格"}, "grid_type"),  # a filter of the grids
    ({"name": "x"}, "name"),
    ({"datetime": "last week"}, "datetime"),
]


def test_bad_filters_are_422_naming_them(world: World, client: TestClient) -> None:
    for params, field in BAD_FILTERS:
        r = client.get(ITEMS, params=params)
        assert r.status_code == 422, (params, r.text)
        assert any(e["loc"][-1] == field for e in r.json()["detail"]), r.json()


def test_filters_survive_into_the_paging_links(world: World, client: TestClient) -> None:
    url: str | None = f"{ITEMS}?limit=2&category=property,housing,labour"
    pages = []
    while url:
        r = client.get(url)
        assert r.status_code == 200
        pages.append(r.json())
        url = next((link["href"] for link in pages[-1]["links"] if link["rel"] == "next"),
                   None)
    assert [p["numberReturned"] for p in pages] == [2, 2]
    assert {p["numberMatched"] for p in pages} == {4}
    got = [world.key(f["id"]) for p in pages for f in p["features"]]
    assert sorted(got) == ["a", "b", "c", "f"]
    [prev] = [link for link in pages[1]["links"] if link["rel"] == "prev"]
    query = parse_qs(urlsplit(prev["href"]).query)
    assert query == {"limit": ["2"], "offset": ["0"], "category": ["property,housing,labour"]}


# --- scope ------------------------------------------------------------------------------------


def test_each_role_sees_its_cases_only(world: World, client: TestClient) -> None:
    w = world
    roles = {
        "admin": (client, "abcdf"),
        "commander": (w.login_as("commander"), "abcf"),  # 检举控告 stays hidden
        "discipline": (w.login_as("discipline"), "abcdf"),
        "grid_worker 5": (w.login_as("grid_worker", grid_codes=[grid_code(5)]), "ab"),
        "grid_worker 1+2": (w.login_as("grid_worker", grid_codes=[grid_code(1), grid_code(2)]),
                            "cf"),
        "community": (w.login_as("community", community_code=COMMUNITY), "abcf"),
        "street": (w.login_as("street", street_code=STREET), "abcf"),
        "unit A": (w.login_as("unit_handler", unit_id=w.unit_a), "b"),
        "grid_worker 3": (w.login_as("grid_worker", grid_codes=[grid_code(3)]), ""),
    }
    for role, (c, expected) in roles.items():
        assert _keys(w, c) == set(expected), role
        # Filters and bbox never widen the scope.
        assert _keys(w, c, bbox=",".join(map(str, (X0, Y0, X0 + 3 * STEP, Y0 + 3 * STEP))),
                     open="true") == set(expected) - {"c"}, role
    worker = roles["grid_worker 5"][0]
    r = worker.get(f"{ITEMS}/{w.ids['c']}")
    assert r.status_code == 404
    assert r.json()["detail"] == f"feature {w.ids['c']} does not exist in collection 'cases'"
    assert worker.get(f"{ITEMS}/{w.ids['a']}").status_code == 200


def test_the_collection_extent_is_the_callers(world: World, client: TestClient) -> None:
    def extent(c: TestClient) -> dict[str, Any]:
        r = c.get("/collections/cases")
        assert r.status_code == 200
        e: dict[str, Any] = r.json()["extent"]
        return e

    everything = extent(client)
    assert everything["spatial"]["bbox"][0] == pytest.approx(
        [centre(1)[0], centre(9)[1], centre(9)[0], centre(1)[1]], abs=1e-9)
    assert everything["temporal"]["interval"] == [["2020-04-01T00:00:00Z",
                                                   "2020-05-06T01:30:00Z"]]
    mine = extent(world.login_as("grid_worker", grid_codes=[grid_code(5)]))
    x, y = centre(5)
    assert mine["spatial"]["bbox"][0] == pytest.approx([x, y, x, y], abs=1e-9)
    assert mine["temporal"]["interval"] == [["2020-05-06T01:30:00Z", "2020-05-06T01:30:00Z"]]


# --- output -----------------------------------------------------------------------------------


def test_crs_gcj02_and_bd09_shift_the_points(world: World, client: TestClient) -> None:
    wgs = {f["id"]: f for f in _page(client)["features"]}
    for name, shift in (("gcj02", gcrs.wgs84_to_gcj02), ("bd09", gcrs.wgs84_to_bd09)):
        r = client.get(ITEMS, params={"crs": name})
        assert r.status_code == 200 and "content-crs" not in r.headers
        for f in r.json()["features"]:
            x, y = wgs[f["id"]]["geometry"]["coordinates"]
            assert f["geometry"]["coordinates"] == pytest.approx(
                [float(v) for v in shift(x, y)], abs=1e-7)
            assert f["properties"] == wgs[f["id"]]["properties"]
    r = client.get(ITEMS)
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"


def test_schema_types_the_case_properties(client: TestClient) -> None:
    r = client.get("/collections/cases/schema")
    assert r.status_code == 200
    schema = r.json()
    assert schema["properties"]["geometry"]["properties"]["type"]["enum"] == ["Point"]
    props = schema["properties"]["properties"]["properties"]
    assert list(props) == [
        "id", "external_id", "received_at", "channel", "category", "category_name", "status",
        "status_label", "grid_code", "community_code", "community_name", "street_code",
        "street_name", "persons_count", "is_repeat", "is_collective", "address", "petitioner",
        "due_date", "due_rule", "band", "local_band", "statutory_band", "overdue", "supervised",
        "leader"]
    assert (props["received_at"]["format"], props["due_date"]["format"]) == ("date-time", "date")
    assert props["band"]["enum"] == ["green", "yellow", "orange", "red", "none"]
    assert {props[k]["type"] for k in ("overdue", "supervised", "is_repeat")} == {"boolean"}
    assert props["persons_count"]["type"] == "integer"


def test_the_page_cap_is_a_setting(world: World, app_settings: AppSettings, session: Session,
                                   keys: Keys, client: TestClient) -> None:
    # Default: 10,000 (LimitSettings.ogc_max_limit), more is a 422 naming `limit`.
    assert client.get(ITEMS, params={"limit": 10_000}).status_code == 200
    r = client.get(ITEMS, params={"limit": 10_001})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "limit"]
    small = create_app(replace(app_settings, limits=LimitSettings(ogc_max_limit=3)))
    small.dependency_overrides[get_session] = lambda: session
    small.dependency_overrides[get_now] = lambda: NOW
    user, _ = create_user(session, "cap_admin", "admin")
    token, _ = issue_token(user, keys, 30)
    with TestClient(small, headers={"Authorization": f"Bearer {token}"}) as c:
        assert c.get(ITEMS, params={"limit": 3}).json()["numberReturned"] == 3
        r = c.get(ITEMS, params={"limit": 4})
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["query", "limit"]
        assert "1..3" in r.json()["detail"][0]["msg"]
        params = {p["name"]: p for p in c.get("/api").json()["paths"][
            "/collections/{collectionId}/items"]["get"]["parameters"]}
        assert params["limit"]["schema"]["maximum"] == 3
        # The case filters are listed for GDAL to push down.
        for name in ("status", "category", "grid_code", "open", "band", "overdue",
                     "supervised", "leader"):
            assert name in params, name
        assert "cases" in params["band"]["description"]


def test_cases_need_the_token(anon_client: TestClient) -> None:
    for url in ("/collections/cases", ITEMS, f"{ITEMS}/1", "/collections/cases/schema"):
        assert anon_client.get(url).status_code == 401, url
