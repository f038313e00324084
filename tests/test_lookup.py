"""GET /grids/lookup on the 3×3 squares: inside, edges, corners, outside, CRS and bad input.

Edge rule under test: cells are closed; on a shared edge or corner the lowest grid code wins.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from geo import crs as gcrs
from tests.squares import COMMUNITY, STEP, STREET, X0, Y0, grid_code, load_squares


@pytest.fixture
def squares(session: Session, tmp_path: Path) -> None:
    """The 3×3 square world, active."""
    load_squares(session, tmp_path)


def _lookup(client: TestClient, lon: float, lat: float, crs: str = "wgs84") -> str:
    resp = client.get("/grids/lookup", params={"lon": lon, "lat": lat, "crs": crs})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["grid_code"])


@pytest.mark.parametrize(("lon", "lat", "serial"), [
    (X0 + 0.5 * STEP, Y0 + 2.5 * STEP, 1),   # centre of the north-west square
    (X0 + 2.5 * STEP, Y0 + 0.5 * STEP, 9),   # centre of the south-east square
    (X0 + 1.2 * STEP, Y0 + 1.7 * STEP, 5),   # inside the middle square
])
def test_point_inside_a_square_gets_that_square(client: TestClient, squares: None, lon: float,
                                                lat: float, serial: int) -> None:
    assert _lookup(client, lon, lat) == grid_code(serial)


def test_lookup_body_names_grid_community_street_and_generation(client: TestClient,
                                                                 squares: None) -> None:
    resp = client.get("/grids/lookup", params={"lon": X0 + 0.015, "lat": Y0 + 0.015})
    assert resp.status_code == 200
    body = resp.json()
    assert body["grid_code"] == grid_code(5) and body["grid_name"] == "测试社区第5网格"
    assert (body["community_code"], body["community_name"]) == (COMMUNITY, "测试社区居委会")
    assert (body["street_code"], body["street_name"]) == (STREET, "测试街道")
    assert isinstance(body["generation_id"], int)
    assert body["input"] == {"lon": X0 + 0.015, "lat": Y0 + 0.015, "crs": "wgs84"}


@pytest.mark.parametrize(("lon", "lat", "serial"), [
    (X0 + STEP, Y0 + 2.5 * STEP, 1),          # edge between 1 and 2 → 1
    (X0 + 1.5 * STEP, Y0 + 2 * STEP, 2),      # edge between 2 (north) and 5 (south) → 2
    (X0 + 2 * STEP, Y0 + 0.5 * STEP, 8),      # edge between 8 and 9 → 8
    (X0 + STEP, Y0 + 2 * STEP, 1),            # corner of 1, 2, 4, 5 → 1
    (X0 + 2 * STEP, Y0 + STEP, 5),            # corner of 5, 6, 8, 9 → 5
    (X0, Y0, 7),                              # outer corner of 7 only
    (X0 + 3 * STEP, Y0 + 1.5 * STEP, 6),      # outer edge of 6 only
])
def test_shared_edges_and_corners_go_to_the_lowest_code(client: TestClient, squares: None,
                                                        lon: float, lat: float,
                                                        serial: int) -> None:
    assert _lookup(client, lon, lat) == grid_code(serial)


def test_same_point_always_gets_the_same_grid(client: TestClient, squares: None) -> None:
    codes = {_lookup(client, X0 + STEP, Y0 + STEP) for _ in range(5)}
    assert codes == {grid_code(4)}


def test_point_outside_every_grid_is_404_with_message(client: TestClient, squares: None) -> None:
    resp = client.get("/grids/lookup", params={"lon": X0 - 0.001, "lat": Y0 + 0.01})
    assert resp.status_code == 404
    assert "outside every grid" in resp.json()["detail"]


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_shifted_coordinates_land_in_the_same_grid_as_wgs84(client: TestClient, squares: None,
                                                            crs: str) -> None:
    # Near the east edge of square 5: uncorrected, the ~430 m GCJ-02 shift would land in 6.
    lon, lat = X0 + 1.97 * STEP, Y0 + 1.5 * STEP
    slon, slat = gcrs.from_wgs84(lon, lat, crs)
    assert _lookup(client, lon, lat) == grid_code(5)
    assert _lookup(client, float(slon), float(slat), crs) == grid_code(5)
    # The same numbers taken as WGS84 land ~430 m east: outside square 5.
    raw = client.get("/grids/lookup", params={"lon": float(slon), "lat": float(slat)})
    assert raw.status_code == 404 or raw.json()["grid_code"] != grid_code(5)


@pytest.mark.parametrize(("params", "field", "text"), [
    ({"lon": "abc", "lat": "38.9"}, "lon", "number"),
    ({"lon": "121.7", "lat": "nan"}, "lat", "finite"),
    ({"lon": "inf", "lat": "38.9"}, "lon", "finite"),
    ({"lon": "121.7"}, "lat", "required"),
    ({"lon": "38.9", "lat": "121.7"}, "lat", "swapped"),
    ({"lon": "181", "lat": "38.9"}, "lon", "-180..180"),
    ({"lon": "121.7", "lat": "-91"}, "lat", "-90..90"),
    ({"lon": "121.7", "lat": "38.9", "crs": "mars"}, "crs", "wgs84"),
])
def test_bad_input_is_422_naming_the_parameter(client: TestClient, params: dict[str, str],
                                               field: str, text: str) -> None:
    resp = client.get("/grids/lookup", params=params)
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert any(d["loc"][-1] == field for d in detail), detail
    assert any(text in d["msg"].lower() or text in str(d.get("ctx", "")).lower()
               for d in detail), detail
