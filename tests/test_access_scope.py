"""Every role against every read endpoint, inside and outside its scope (table-driven).

Four cases on the generated district: A in grid G1 (社区 C1, 街道 S1), B in G2 (C2, also S1),
C in G3 (C3, another 街道 S2), and D — a 检举控告 matter — in G1. Each role must see exactly its
share, through lists, details, filtered counts and hand placement, and a denied read must leak
nothing: a 404 like a case that does not exist, and counts that only include what it may see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.cases.intake import create_cases
from geo.cases.people import assign_grid_unit
from geo.cases.reference import ensure_area_units, load_reference_data
from geo.cases.schema import CaseIn
from geo.settings import CaseSettings

pytestmark = pytest.mark.usefixtures("zhongshan")


@dataclass(frozen=True)
class World:
    """The four cases and the areas they lie in."""

    ids: dict[str, int]
    grids: dict[str, str]
    community: str
    street: str
    unit_c3: int


def _grid_in(session: Session, street_code: str, not_community: str | None = None
             ) -> tuple[str, str, float, float]:
    row = session.execute(text("""
        SELECT gc.code, gc.community_code, ST_X(ST_PointOnSurface(gc.geom)) AS x,
               ST_Y(ST_PointOnSurface(gc.geom)) AS y
        FROM grid_cell gc
        JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active
        WHERE left(gc.community_code, 9) = left(:street, 9)
          AND (CAST(:not_c AS text) IS NULL OR gc.community_code <> :not_c)
        ORDER BY gc.code LIMIT 1"""), {"street": street_code, "not_c": not_community}).one()
    return row.code, row.community_code, row.x, row.y


@pytest.fixture
def world(session: Session, cipher: Any) -> World:
    """Four cases placed in known grids, with each grid's 居委会 as its responsible unit."""
    load_reference_data(session)
    ensure_area_units(session)
    s1, s2 = "210202008000", "210202012000"
    g1, c1, x1, y1 = _grid_in(session, s1)
    g2, _, x2, y2 = _grid_in(session, s1, not_community=c1)
    g3, c3, x3, y3 = _grid_in(session, s2)
    for g in (g1, g2, g3):
        assign_grid_unit(session, g, g[:12], date(2019, 1, 1))

    def case(x: float, y: float, category: str) -> CaseIn:
        return CaseIn.model_validate({
            "category": category, "content": "测试", "location": {"lon": x, "lat": y},
            "received_at": "2020-05-06T10:00:00+08:00", "petitioners": [{"name": "张三"}]})

    cases = [case(x1, y1, "物业"), case(x2, y2, "物业"), case(x3, y3, "住建"),
             case(x1, y1, "检举控告")]
    ids, _ = create_cases(session, cases, None, CaseSettings(), cipher=cipher)
    unit_c3 = session.scalar(text("SELECT id FROM unit WHERE code = :c"), {"c": c3})
    return World(dict(zip("ABCD", ids, strict=True)), {"G1": g1, "G2": g2, "G3": g3},
                 c1, s1, int(unit_c3))


# role → (scope kwargs builder, visible cases)
ROLES: dict[str, tuple[Callable[[World], dict[str, Any]], str]] = {
    "grid_worker": (lambda w: {"grid_codes": [w.grids["G1"]]}, "A"),
    "grid_leader": (lambda w: {"grid_codes": [w.grids["G1"]]}, "A"),
    "community": (lambda w: {"community_code": w.community}, "A"),
    "street": (lambda w: {"street_code": w.street}, "AB"),
    "unit_handler": (lambda w: {"unit_id": w.unit_c3}, "C"),
    "registrar": (lambda w: {}, "ABC"),
    "commander": (lambda w: {}, "ABC"),
    "discipline": (lambda w: {}, "ABCD"),
    "admin": (lambda w: {}, "ABCD"),
}


@pytest.fixture(params=list(ROLES))
def as_role(request: pytest.FixtureRequest, world: World, login_as: Any
            ) -> tuple[str, TestClient, set[str]]:
    """(role, a client logged in with that role's scope, the cases it may see)."""
    role = request.param
    scope_of, visible = ROLES[role]
    return role, login_as(role=role, **scope_of(world)), set(visible)


def test_case_list_shows_exactly_the_scope(as_role: tuple[str, TestClient, set[str]],
                                           world: World) -> None:
    role, client, visible = as_role
    page = client.get("/cases", params={"limit": 1000}).json()
    by_id = {v: k for k, v in world.ids.items()}
    seen = {by_id[c["id"]] for c in page["items"] if c["id"] in by_id}
    assert seen == visible, role
    assert page["numberMatched"] == len(page["items"])  # nothing else in scope, nothing hidden


def test_case_details_are_404_outside_the_scope(as_role: tuple[str, TestClient, set[str]],
                                                world: World) -> None:
    role, client, visible = as_role
    for name, case_id in world.ids.items():
        resp = client.get(f"/cases/{case_id}")
        if name in visible:
            assert resp.status_code == 200 and resp.json()["id"] == case_id, (role, name)
        else:
            assert resp.status_code == 404, (role, name)
            assert resp.json() == {"detail": f"no case {case_id}"}  # same as a missing case


def test_filtered_counts_leak_nothing(as_role: tuple[str, TestClient, set[str]],
                                     world: World) -> None:
    role, client, visible = as_role
    page = client.get("/cases", params={"grid_code": world.grids["G3"]}).json()
    assert page["numberMatched"] == (1 if "C" in visible else 0), role
    page = client.get("/cases", params={"category": "accusation"}).json()
    assert page["numberMatched"] == (1 if "D" in visible else 0), role


def test_placing_a_case_outside_the_scope_is_404(as_role: tuple[str, TestClient, set[str]],
                                                 world: World) -> None:
    role, client, visible = as_role
    resp = client.patch(f"/cases/{world.ids['C']}/location", json={"lon": 121.7, "lat": 38.9})
    if "C" not in visible:
        assert resp.status_code == 404, role
    else:
        assert resp.status_code in (200, 403), role


def test_boundaries_and_lookup_are_open_to_every_role(
        as_role: tuple[str, TestClient, set[str]]) -> None:
    role, client, _ = as_role
    assert client.get("/grids/lookup", params={"lon": 121.66, "lat": 38.92}).status_code == 200
    assert client.get("/map").status_code == 200, role


def test_audit_log_is_admin_only(as_role: tuple[str, TestClient, set[str]]) -> None:
    role, client, _ = as_role
    resp = client.get("/audit")
    assert resp.status_code == (200 if role == "admin" else 403), role
    if role != "admin":
        assert "admin" in resp.json()["detail"]


def test_only_registering_roles_may_create(as_role: tuple[str, TestClient, set[str]],
                                           world: World, session: Session) -> None:
    role, client, _ = as_role
    x, y = session.execute(text("SELECT ST_X(ST_PointOnSurface(geom)), "
                                "ST_Y(ST_PointOnSurface(geom)) FROM grid_cell WHERE code = :g"),
                           {"g": world.grids["G1"]}).one()
    resp = client.post("/cases", json={"category": "物业", "content": "巡查发现",
                                       "location": {"lon": x, "lat": y}})
    allowed = role not in ("unit_handler", "discipline")
    assert resp.status_code == (201 if allowed else 403), (role, resp.text)


def test_bbox_filters_cases_within_the_scope(client: TestClient, world: World,
                                             session: Session) -> None:
    x, y = session.execute(text("SELECT ST_X(ST_PointOnSurface(geom)), "
                                "ST_Y(ST_PointOnSurface(geom)) FROM grid_cell WHERE code = :g"),
                           {"g": world.grids["G3"]}).one()
    page = client.get("/cases", params={"bbox": f"{x - 1e-4},{y - 1e-4},{x + 1e-4},{y + 1e-4}"})
    assert page.status_code == 200
    assert [c["id"] for c in page.json()["items"]] == [world.ids["C"]]


@pytest.mark.parametrize(("params", "field"), [
    ({"bbox": "100,20,130,50"}, "bbox"), ({"bbox": "1,2,3"}, "bbox"),
    ({"limit": "5000"}, "limit"),
])
def test_caps_answer_422_naming_the_parameter(client: TestClient, params: dict[str, str],
                                              field: str) -> None:
    resp = client.get("/cases", params=params)
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"][-1] == field
