"""Projects on the hand-made 3×3 squares: the import validates the whole file like boundaries
(every problem with its row and code, nothing written unless all pass, dry run, CRS, Chinese
columns), cases attach by buffer, keyword or link with the method recorded (the strongest
kept), CRUD over HTTP with roles and 422/409/404, the project's cases scoped, and the CLI
(`gridmap projects import`, `gridmap hotspots refresh`)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping, shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.commands import hotspots as hotspots_cli
from api.commands import projects as projects_cli
from geo import crs as gcrs
from geo.cases.reference import load_reference_data
from geo.projects import import_projects
from tests.hotspot_world import add_case, at
from tests.squares import STEP, X0, Y0, feature, grid_code, load_squares, square, write_fc

# A 200 m × 200 m site in the middle of square 5 (0.01° ≈ 866 m east-west, 1,111 m north-south).
MID_X, MID_Y = X0 + 1.5 * STEP, Y0 + 1.5 * STEP
DX, DY = 100 / 86_600, 100 / 111_000              # 100 m in degrees here
SITE = box(MID_X - DX, MID_Y - DY, MID_X + DX, MID_Y + DY)


@dataclass
class World:
    """Squares, categories, and the test's session and clients."""

    session: Session
    tmp: Path
    login_as: Callable[..., TestClient]


@pytest.fixture
def world(session: Session, tmp_path: Path, login_as: Callable[..., TestClient]) -> World:
    load_squares(session, tmp_path)
    load_reference_data(session)
    return World(session, tmp_path, login_as)


def site(code: str = "P-1", geom: Any = SITE, **props: Any) -> dict[str, Any]:
    base = {"code": code, "name": "幸福里回迁地块", "project_type": "relocation",
            "households": 120, "buffer_m": 50, "keywords": "幸福里、幸福里回迁"}
    return feature(geom, **{**base, **props})


def case_at(w: World, dx_m: float, content: str = "反映物业问题", **kw: Any) -> int:
    """A case `dx_m` metres east of the site's east edge (negative: inside), in square 5."""
    return add_case(w.session, grid_code(5), MID_X + DX + dx_m / 86_600, MID_Y,
                    at("2020-06-01"), content=content, **kw)


def attachments(s: Session) -> dict[int, tuple[str, Any, Any]]:
    rows = s.execute(text("SELECT case_id, method, distance_m, keyword FROM case_project")).all()
    return {r.case_id: (r.method, None if r.distance_m is None else round(r.distance_m),
                        r.keyword) for r in rows}


def test_import_writes_the_projects_and_attaches_cases_by_buffer_and_keyword(
        world: World) -> None:
    inside = case_at(world, -50)
    near = case_at(world, 30)
    far = case_at(world, 300)
    named = case_at(world, 600, content="本人是幸福里回迁户，要求明确回迁时间")
    both = case_at(world, -20, content="幸福里回迁地块动迁户")
    enterprise = add_case(world.session, grid_code(1), X0 + 0.005, Y0 + 0.025, at("2020-07-01"),
                          content="某某厂拖欠工资")
    path = write_fc(world.tmp / "projects.geojson", [
        site(),
        # Chinese columns, a Chinese type label and date, the default buffer.
        feature(box(X0 + 0.004, Y0 + 0.024, X0 + 0.006, Y0 + 0.026), 项目编码="P-2",
                项目名称="某某厂", 类型="欠薪企业", 开始日期="2008年1月1日", 关键词="某某厂"),
    ])
    report = import_projects(world.session, path)
    assert report.ok, report.format()
    assert (report.inserted, report.updated) == (2, 0)
    rows = world.session.execute(text(
        "SELECT code, project_type, households, buffer_m, keywords, start_date, community_code "
        "FROM project ORDER BY code")).all()
    assert [tuple(r) for r in rows] == [
        ("P-1", "relocation", 120, 50.0, ["幸福里", "幸福里回迁"], None, "210202001002"),
        ("P-2", "enterprise", None, 50.0, ["某某厂"], rows[1].start_date, "210202001002")]
    assert rows[1].start_date.isoformat() == "2008-01-01"
    found = attachments(world.session)
    assert found[inside] == ("buffer", 0, None)
    assert found[near][0] == "buffer" and abs(found[near][1] - 30) <= 1
    assert far not in found
    assert found[named] == ("keyword", None, "幸福里回迁")         # the longest keyword matched
    assert found[both] == ("buffer", 0, None)                      # buffer beats keyword
    assert found[enterprise][0] == "buffer"                         # inside its polygon
    assert report.attached == {"link": 0, "buffer": 4, "keyword": 1}
    assert "written: 2 new, 0 updated projects" in report.format()


def test_reimport_updates_by_code(world: World) -> None:
    path = write_fc(world.tmp / "p.geojson", [site()])
    assert import_projects(world.session, path).ok
    path = write_fc(world.tmp / "p.geojson", [site(households=130, phase="回迁安置")])
    report = import_projects(world.session, path)
    assert (report.inserted, report.updated) == (0, 1)
    assert world.session.execute(text("SELECT count(*), max(households), max(phase) FROM project")
                                 ).one() == (1, 130, "回迁安置")


def test_a_bad_file_is_rejected_whole_with_row_and_code(world: World) -> None:
    outside = box(X0 + 1, Y0 + 1, X0 + 1.001, Y0 + 1.001)
    path = write_fc(world.tmp / "bad.geojson", [
        site("OK-1"),
        site("OK-1"),                                   # 2 duplicate code
        site("T-3", project_type="playground"),         # 3 unknown type
        site("T-4", households=-3),                     # 4 negative households
        site("T-5", start_date="2020-13-01"),           # 5 not a date
        site("T-6", start_date="2020-05-01", end_date="2020-04-01"),  # 6 end before start
        site("T-7", buffer_m=5000),                     # 7 buffer too large
        site("T-8", geom={"type": "Point", "coordinates": [MID_X, MID_Y]}),  # 8 not a polygon
        site("T-9", geom=outside),                      # 9 outside the district
        site("T 10"),                                   # 10 malformed code
        site("T-11", name=""),                          # 11 no name
    ])
    report = import_projects(world.session, path)
    assert not report.ok
    got = {(p.row, p.kind) for p in report.errors}
    assert got == {(2, "duplicate_code"), (3, "unknown_type"), (4, "bad_households"),
                   (5, "bad_date"), (6, "bad_date"), (7, "bad_buffer"),
                   (8, "wrong_geometry_type"), (9, "outside_district"), (10, "malformed_code"),
                   (11, "missing_name")}
    assert all(p.code for p in report.errors)
    assert "rejected: nothing was written" in report.format()
    assert world.session.execute(text("SELECT count(*) FROM project")).scalar() == 0


def test_dry_run_writes_nothing_and_gcj02_files_are_converted(world: World) -> None:
    gx, gy = gcrs.wgs84_to_gcj02(MID_X, MID_Y)
    shifted = box(float(gx) - DX, float(gy) - DY, float(gx) + DX, float(gy) + DY)
    path = write_fc(world.tmp / "gcj.geojson", [site(geom=shifted)])
    report = import_projects(world.session, path, crs="gcj02", dry_run=True)
    assert report.ok and report.crs == "gcj02"
    assert world.session.execute(text("SELECT count(*) FROM project")).scalar() == 0
    assert import_projects(world.session, path, crs="gcj02").ok
    x, y = world.session.execute(text(
        "SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM project")).one()
    assert abs(x - MID_X) * 86_600 < 1 and abs(y - MID_Y) * 111_000 < 1


def _body(**over: Any) -> dict[str, Any]:
    return {"code": "P-1", "name": "幸福里回迁地块", "project_type": "relocation",
            "households": 120, "buffer_m": 50, "keywords": ["幸福里"],
            "geometry": mapping(SITE), **over}


def test_projects_over_http(world: World) -> None:
    inside = case_at(world, -50)
    near = case_at(world, 80)
    admin = world.login_as("commander")
    res = admin.post("/projects", json=_body())
    assert res.status_code == 201, res.text
    project = res.json()
    pid = project["id"]
    assert res.headers["location"].endswith(f"/projects/{pid}")
    assert project["properties"]["project_type_label"] == "回迁/动迁"
    assert project["properties"]["community_code"] == "210202001002"
    assert shape(project["geometry"]).hausdorff_distance(SITE) < 1e-6   # 7 decimals kept
    cases = admin.get(f"/projects/{pid}/cases").json()["items"]
    assert [(c["case_id"], c["method"], c["distance_m"]) for c in cases] == [(inside, "buffer",
                                                                               0.0)]
    # A wider buffer takes the case 80 m away too.
    res = admin.patch(f"/projects/{pid}", json={"buffer_m": 100, "phase": "回迁安置"})
    assert res.status_code == 200, res.text
    assert res.json()["properties"]["buffer_m"] == 100 and res.json()["properties"]["code"] == "P-1"
    methods = {c["case_id"]: c["method"] for c in admin.get(f"/projects/{pid}/cases").json()[
        "items"]}
    assert methods == {inside: "buffer", near: "buffer"}
    # Listing is a FeatureCollection for everyone signed in.
    res = world.login_as("grid_worker", grid_codes=[grid_code(1)]).get("/projects")
    assert res.status_code == 200 and res.headers["content-type"].startswith(
        "application/geo+json")
    assert [f["properties"]["code"] for f in res.json()["features"]] == ["P-1"]

    assert admin.post("/projects", json=_body()).status_code == 409
    res = admin.post("/projects", json=_body(code="P-2", geometry={"type": "Point",
                                                                   "coordinates": [1, 2]}))
    assert res.status_code == 422 and res.json()["detail"][0]["loc"] == ["body", "geometry"]
    res = admin.post("/projects", json=_body(code="P-3", start_date="2020-05-01",
                                             end_date="2020-01-01"))
    assert res.status_code == 422 and res.json()["detail"][0]["loc"] == ["body", "end_date"]
    assert admin.post("/projects", json=_body(code="P-4", project_type="park")
                      ).status_code == 422
    res = world.login_as("grid_worker", grid_codes=[grid_code(5)]).post(
        "/projects", json=_body(code="P-5"))
    assert res.status_code == 403 and "registrar, commander, admin" in res.json()["detail"]

    assert admin.delete(f"/projects/{pid}").status_code == 204
    assert admin.get(f"/projects/{pid}").status_code == 404
    assert world.session.execute(text("SELECT count(*) FROM case_project")).scalar() == 0


def test_links_by_hand_are_recorded_and_scoped(world: World) -> None:
    inside = case_at(world, -50)
    elsewhere = add_case(world.session, grid_code(9), X0 + 0.025, Y0 + 0.005, at("2020-06-02"))
    secret = add_case(world.session, grid_code(9), X0 + 0.025, Y0 + 0.005, at("2020-06-03"),
                      category="accusation")
    commander = world.login_as("commander")
    pid = commander.post("/projects", json=_body()).json()["id"]
    res = commander.post(f"/projects/{pid}/cases", json={"case_ids": [elsewhere, inside]})
    assert res.status_code == 200 and res.json()["linked"] == sorted([elsewhere, inside])
    rows = world.session.execute(text("SELECT case_id, method, attached_by FROM case_project "
                                      "ORDER BY case_id")).all()
    assert {(r.case_id, r.method) for r in rows} == {(inside, "link"), (elsewhere, "link")}
    assert all(r.attached_by.startswith("test_commander") for r in rows)
    # A case the commander may not see (检举控告) can't be linked: 404, nothing written.
    assert commander.post(f"/projects/{pid}/cases", json={"case_ids": [secret]}
                          ).status_code == 404
    # A grid worker of square 5 sees only the case in their grid.
    worker = world.login_as("grid_worker", grid_codes=[grid_code(5)])
    assert [c["case_id"] for c in worker.get(f"/projects/{pid}/cases").json()["items"]] == [
        inside]
    assert worker.post(f"/projects/{pid}/cases", json={"case_ids": [inside]}).status_code == 403
    # Unlinking: the case inside the buffer stays attached, by buffer now.
    assert commander.delete(f"/projects/{pid}/cases/{inside}").status_code == 204
    assert commander.delete(f"/projects/{pid}/cases/{elsewhere}").status_code == 204
    assert attachments(world.session) == {inside: ("buffer", 0, None)}
    assert commander.delete(f"/projects/{pid}/cases/{inside}").status_code == 404
    assert commander.post("/projects/999999/cases", json={"case_ids": [inside]}
                          ).status_code == 404


def test_the_cli_imports_projects_and_refreshes_hotspots(
        world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.cli import main

    for k in range(6):
        case_at(world, -10 - k)
    world.session.commit()  # a savepoint: the commands' rollbacks stop here
    session_cm = lambda: contextlib.nullcontext(world.session)  # noqa: E731
    monkeypatch.setattr(projects_cli, "_open_session", session_cm)
    monkeypatch.setattr(hotspots_cli, "_open_session", session_cm)
    path = write_fc(world.tmp / "p.geojson", [site(), site("P-2", project_type="旧城区改造")])
    assert main(["projects", "import", str(path), "--dry-run"]) == 0
    assert "dry run: nothing was written" in capsys.readouterr().out
    assert main(["projects", "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert "written: 2 new, 0 updated projects" in out and "buffer 12" in out
    assert main(["projects", "list"]) == 0
    assert "幸福里回迁地块" in capsys.readouterr().out
    bad = write_fc(world.tmp / "bad.geojson", [site(project_type="playground")])
    assert main(["projects", "import", str(bad)]) == 1
    assert "unknown_type" in capsys.readouterr().out

    assert main(["hotspots", "refresh", "--from", "2020-01-01", "--to", "2021-01-01"]) == 0
    out = capsys.readouterr().out
    assert "grid 9, community 1, street 1, project 2" in out
    rows = dict(world.session.execute(text(
        "SELECT level, count(*) FROM hotspot_stat GROUP BY 1")).all())
    assert rows == {"grid": 9, "community": 1, "street": 1, "project": 2}
    assert world.session.execute(text(
        "SELECT cases FROM hotspot_stat WHERE level = 'grid' AND code = :g"),
        {"g": grid_code(5)}).scalar() == 6
    assert main(["hotspots", "refresh", "--from", "2021-01-01", "--to", "2020-01-01"]) == 2
    assert main(["hotspots", "refresh", "--at", "soon"]) == 2
    assert "--at 'soon' is not a date" in capsys.readouterr().err


def test_the_square_fixture_is_what_the_site_assumes() -> None:
    assert square(5).contains(SITE)
