"""Case intake and grid assignment on the hand-made squares: exact placement rules, history,
people on duty, the needs_location queue, and every kind of bad input."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.deps import get_geocoder
from geo import crs as gcrs
from geo.boundaries import import_boundaries
from geo.cases.intake import reassign_all
from geo.cases.people import assign_grid_person, assign_grid_unit
from geo.cases.reference import ensure_area_units, load_reference_data
from geo.geocode.base import GeocodeResult
from geo.settings import CaseSettings
from tests.squares import (
    COMMUNITY,
    STEP,
    STREET,
    X0,
    Y0,
    grid_code,
    grid_features,
    load_squares,
    square,
    write_fc,
)


class DictGeocoder:
    """A geocoder test double: fixed answers for a few addresses (the database stays real)."""

    def __init__(self, answers: dict[str, GeocodeResult]) -> None:
        self.answers = answers

    def geocode(self, address: str) -> GeocodeResult:
        return self.answers.get(address, GeocodeResult("none", 0.0, normalized=address))

    def geocode_many(self, addresses: Sequence[str]) -> list[GeocodeResult]:
        return [self.geocode(a) for a in addresses]


CENTRE_5 = (X0 + 1.5 * STEP, Y0 + 1.5 * STEP)
GEOCODER = DictGeocoder({
    "测试路5号": GeocodeResult("road_number", 0.95, *CENTRE_5, COMMUNITY, STREET, "测试路 5号"),
    "测试社区": GeocodeResult("community", 0.6, *CENTRE_5, COMMUNITY, STREET, "测试社区"),
})


@pytest.fixture
def world(session: Session, tmp_path: Path) -> None:
    """Squares, reference data, and people on duty for square 5."""
    load_squares(session, tmp_path)
    load_reference_data(session)
    ensure_area_units(session)
    assign_grid_person(session, grid_code(5), "王网格", "grid_worker", date(2019, 1, 1))
    assign_grid_person(session, grid_code(5), "李组长", "grid_leader", date(2019, 1, 1))
    assign_grid_unit(session, grid_code(5), COMMUNITY, date(2019, 1, 1))


@pytest.fixture
def api(client: TestClient, world: None) -> TestClient:
    """The client with the geocoder double plugged in."""
    client.app.dependency_overrides[get_geocoder] = lambda: GEOCODER  # type: ignore[attr-defined]
    return client


def _case(**kw: Any) -> dict[str, Any]:
    body = {"category": "物业", "content": "楼道灯坏了三个月无人修", "channel": "patrol",
            "received_at": "2020-05-06T09:30:00+08:00"}
    body.update(kw)
    return body


def _post(api: TestClient, **kw: Any) -> dict[str, Any]:
    resp = api.post("/cases", json=_case(**kw))
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_case_with_a_location_lands_in_its_grid_with_people(api: TestClient) -> None:
    body = _post(api, location={"lon": CENTRE_5[0], "lat": CENTRE_5[1], "crs": "wgs84"},
                 petitioners=[{"name": "张三"}])
    assert body["grid"]["code"] == grid_code(5)
    assert body["community"] == {"code": COMMUNITY, "name": "测试社区居委会"}
    assert body["street"] == {"code": STREET, "name": "测试街道"}
    assert body["people"] == {"grid_worker": "王网格", "grid_leader": "李组长",
                              "responsible_unit": "测试社区居委会"}
    assert body["assignment_flag"] == "inside" and body["location_status"] == "located"
    assert body["location"]["lon"] == pytest.approx(CENTRE_5[0], abs=1e-9)
    assert body["category"] == {"code": "property", "name": "物业"}
    assert api.get(f"/cases/{body['id']}").json() == body


@pytest.mark.parametrize(("lon", "lat", "serial"), [
    (X0 + STEP, Y0 + 1.5 * STEP, 4),       # edge between 4 and 5
    (X0 + 2 * STEP, Y0 + STEP, 5),         # corner of 5, 6, 8, 9
    (X0 + 3 * STEP, Y0 + 3 * STEP, 3),     # outer corner
])
def test_edge_and_corner_points_follow_the_lowest_code_rule(api: TestClient, lon: float,
                                                            lat: float, serial: int) -> None:
    body = _post(api, location={"lon": lon, "lat": lat})
    assert body["grid"]["code"] == grid_code(serial) and body["assignment_flag"] == "inside"


def test_point_just_outside_goes_to_nearest_grid_flagged_near_boundary(api: TestClient) -> None:
    # ~100 m east of square 6 (1° lon ≈ 86.7 km here).
    body = _post(api, location={"lon": X0 + 3 * STEP + 100 / 86_700, "lat": Y0 + 1.5 * STEP})
    assert body["assignment_flag"] == "near_boundary"
    assert body["grid"]["code"] == grid_code(6)


def test_point_far_outside_is_rejected_and_not_stored(api: TestClient, session: Session) -> None:
    before = session.scalar(text("SELECT count(*) FROM petition_case"))
    resp = api.post("/cases", json=_case(location={"lon": X0 + 3 * STEP + 500 / 86_700,
                                                   "lat": Y0 + 1.5 * STEP}))
    assert resp.status_code == 422
    [err] = resp.json()["detail"]
    assert err["loc"] == ["body", "location"] and "out of area" in err["msg"]
    assert session.scalar(text("SELECT count(*) FROM petition_case")) == before


def test_near_boundary_distance_is_a_setting(api: TestClient) -> None:
    api.app.state.case_settings = CaseSettings(near_boundary_m=50)  # type: ignore[attr-defined]
    resp = api.post("/cases", json=_case(location={"lon": X0 + 3 * STEP + 100 / 86_700,
                                                   "lat": Y0 + 1.5 * STEP}))
    assert resp.status_code == 422


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_shifted_input_lands_in_the_same_grid_as_wgs84(api: TestClient, crs: str) -> None:
    lon, lat = X0 + 1.97 * STEP, Y0 + 1.5 * STEP   # near the east edge of 5
    slon, slat = gcrs.from_wgs84(lon, lat, crs)
    wgs = _post(api, location={"lon": lon, "lat": lat})
    shifted = _post(api, location={"lon": float(slon), "lat": float(slat), "crs": crs})
    assert wgs["grid"]["code"] == shifted["grid"]["code"] == grid_code(5)
    assert shifted["location"]["lon"] == pytest.approx(lon, abs=1e-8)
    assert shifted["input_location"]["crs"] == crs


def test_address_is_geocoded_and_assigned(api: TestClient) -> None:
    body = _post(api, address="测试路5号")
    assert body["geocode"]["level"] == "road_number" and body["geocode"]["confidence"] == 0.95
    assert body["grid"]["code"] == grid_code(5) and body["location_status"] == "located"


def test_vague_address_waits_in_needs_location_then_is_placed_by_hand(api: TestClient) -> None:
    body = _post(api, address="测试社区")
    assert body["location_status"] == "needs_location" and body["grid"] is None
    assert body["hints"]["community_hint"] == COMMUNITY
    queue = api.get("/cases", params={"location_status": "needs_location"}).json()
    assert [c["id"] for c in queue["items"]] == [body["id"]] and queue["numberMatched"] == 1
    placed = api.patch(f"/cases/{body['id']}/location",
                       json={"lon": X0 + 0.5 * STEP, "lat": Y0 + 0.5 * STEP})
    assert placed.status_code == 200, placed.text
    assert placed.json()["grid"]["code"] == grid_code(7)
    assert placed.json()["geocode"]["level"] == "manual" and placed.json()["version"] == 2


def test_unknown_address_goes_to_the_queue_not_a_wrong_point(api: TestClient) -> None:
    body = _post(api, address="火星路999号")
    assert body["location_status"] == "needs_location" and body["location"] is None


def test_people_on_duty_are_those_of_the_received_date(api: TestClient, session: Session) -> None:
    assign_grid_person(session, grid_code(5), "赵新人", "grid_worker", date(2020, 7, 1))
    before = _post(api, location={"lon": CENTRE_5[0], "lat": CENTRE_5[1]},
                   received_at="2020-06-30T10:00:00+08:00")
    after = _post(api, location={"lon": CENTRE_5[0], "lat": CENTRE_5[1]},
                  received_at="2020-07-01T10:00:00+08:00")
    assert before["people"]["grid_worker"] == "王网格"
    assert after["people"]["grid_worker"] == "赵新人"


def test_reassign_after_regridding_keeps_history(api: TestClient, session: Session,
                                                 tmp_path: Path) -> None:
    case = _post(api, location={"lon": X0 + 2.5 * STEP, "lat": Y0 + 0.5 * STEP})
    assert case["grid"]["code"] == grid_code(9)
    # Re-grid: squares 8 and 9 merge into a new cell 010 (codes 8, 9 retire).
    merged = square(8).union(square(9))
    feats = grid_features(range(1, 8)) + [
        {"type": "Feature", "properties": {"code": f"{COMMUNITY}010", "name": "合并"},
         "geometry": merged.__geo_interface__}]
    report = import_boundaries(session, write_fc(tmp_path / "regrid.geojson", feats), "grid",
                               activate=True)
    assert report.ok, report.format()
    counts = reassign_all(session, CaseSettings())
    assert counts == {"inside": 1}
    moved = api.get(f"/cases/{case['id']}").json()
    assert moved["grid"]["code"] == f"{COMMUNITY}010"
    assert moved["grid"]["generation_id"] == report.generation_id
    history = session.execute(text(
        "SELECT grid_code, grid_generation_id, superseded_at IS NOT NULL AS old "
        "FROM case_assignment WHERE case_id = :id ORDER BY id"), {"id": case["id"]}).all()
    assert [(h.grid_code, h.old) for h in history] == [(grid_code(9), True),
                                                       (f"{COMMUNITY}010", False)]
    assert history[0].grid_generation_id == case["grid"]["generation_id"]


def test_reassigning_every_case_follows_the_same_rules_as_intake(api: TestClient,
                                                                 session: Session) -> None:
    # Edges, corners, inside and just outside: the all-cases path (driven from the cells)
    # must give what the per-case path gave at intake.
    points = [(X0 + STEP, Y0 + 1.5 * STEP), (X0 + 2 * STEP, Y0 + STEP),
              (X0 + 3 * STEP, Y0 + 3 * STEP), (X0, Y0), (X0 + 1.5 * STEP, Y0 + 2 * STEP),
              CENTRE_5, (X0 + 3 * STEP + 100 / 86_700, Y0 + 1.5 * STEP)]
    cases = [_post(api, location={"lon": lon, "lat": lat}) for lon, lat in points]
    assert [c["grid"]["code"] for c in cases] == [grid_code(s) for s in (4, 5, 3, 7, 2, 5, 6)]
    counts = reassign_all(session, CaseSettings())
    assert counts == {"inside": 6, "near_boundary": 1}
    again = [api.get(f"/cases/{c['id']}").json() for c in cases]
    assert [(a["grid"]["code"], a["assignment_flag"]) for a in again] == [
        (c["grid"]["code"], c["assignment_flag"]) for c in cases]
    assert again[5]["people"]["grid_worker"] == "王网格"


def test_list_filters_by_grid_category_and_dates(api: TestClient) -> None:
    _post(api, location={"lon": CENTRE_5[0], "lat": CENTRE_5[1]})
    _post(api, location={"lon": X0 + 0.5 * STEP, "lat": Y0 + 0.5 * STEP}, category="住建",
          received_at="2020-08-01T10:00:00+08:00")
    page = api.get("/cases", params={"grid_code": grid_code(5)}).json()
    assert page["numberMatched"] == 1 and page["items"][0]["grid"]["code"] == grid_code(5)
    page = api.get("/cases", params={"category": "housing"}).json()
    assert [c["category"]["name"] for c in page["items"]] == ["住建"]
    page = api.get("/cases", params={"from": "2020-07-01T00:00:00+08:00",
                                     "to": "2020-09-01T00:00:00+08:00"}).json()
    assert page["numberMatched"] == 1 and page["items"][0]["received_at"].startswith("2020-08")
    page = api.get("/cases", params={"limit": 1, "offset": 5}).json()
    assert page["items"] == [] and page["numberMatched"] == 2


def test_missing_case_is_404(api: TestClient) -> None:
    resp = api.get("/cases/999999999")
    assert resp.status_code == 404 and "999999999" in resp.json()["detail"]


LOC = {"lon": CENTRE_5[0], "lat": CENTRE_5[1]}


@pytest.mark.parametrize(("body", "loc", "text"), [
    (_case(location={"lon": CENTRE_5[1], "lat": CENTRE_5[0]}), ["body", "location", "lat"],
     "swapped"),
    (_case(location={"lon": 121.7, "lat": 95}), ["body", "location", "lat"], "-90..90"),
    (_case(location={"lon": "NaN", "lat": 38.9}), ["body", "location", "lon"], "finite"),
    (_case(location={**LOC, "crs": "mars"}), ["body", "location", "crs"], "wgs84"),
    (_case(), ["body", "location"], "address"),
    (_case(location=LOC, received_at="yesterday"), ["body", "received_at"], "datetime"),
    (_case(location=LOC, received_at="2099-01-01T00:00:00+08:00"), ["body", "received_at"],
     "future"),
    (_case(location=LOC, persons_count=1, petitioners=[{"name": "甲"}, {"name": "乙"}]),
     ["body", "persons_count"], "smaller"),
    (_case(location=LOC, category="外星人"), ["body", "category"], "unknown category"),
    (_case(location=LOC, content="长" * 5001), ["body", "content"], "5000"),
    (_case(location=LOC, address="路" * 301), ["body", "address"], "300"),
    (_case(location=LOC, channel="pigeon"), ["body", "channel"], "letter"),
    (_case(location=LOC, persons_count=0), ["body", "persons_count"], "greater than"),
    (_case(location=LOC, colour="red"), ["body", "colour"], "extra"),
])
def test_bad_input_is_422_naming_the_field(api: TestClient, session: Session,
                                           body: dict[str, Any], loc: list[str],
                                           text: str) -> None:
    before = session.scalar(text_count())
    resp = api.post("/cases", json=body)
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert any(d["loc"] == loc for d in detail), detail
    assert any(text.lower() in d["msg"].lower() for d in detail), detail
    assert session.scalar(text_count()) == before


def text_count() -> Any:
    """SELECT count(*) of cases."""
    return text("SELECT count(*) FROM petition_case")


def test_duplicate_external_id_is_422(api: TestClient) -> None:
    _post(api, location=LOC, external_id="X-1")
    resp = api.post("/cases", json=_case(location=LOC, external_id="X-1"))
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "external_id"]


def test_oversize_body_is_413(api: TestClient) -> None:
    resp = api.post("/cases", content=b'{"content": "' + b"x" * 2_000_000 + b'"}',
                    headers={"content-type": "application/json"})
    assert resp.status_code == 413 and "larger than" in resp.json()["detail"]


def test_bad_json_is_422_not_500(api: TestClient) -> None:
    resp = api.post("/cases", content=b"{not json", headers={"content-type": "application/json"})
    assert resp.status_code == 422


@pytest.mark.parametrize(("params", "field"), [
    ({"grid_code": "123"}, "grid_code"), ({"limit": "100000"}, "limit"),
    ({"from": "soon"}, "from"), ({"location_status": "lost"}, "location_status"),
])
def test_bad_list_parameters_are_422(api: TestClient, params: dict[str, str], field: str) -> None:
    resp = api.get("/cases", params=params)
    assert resp.status_code == 422
    assert any(d["loc"][-1] == field for d in resp.json()["detail"])
