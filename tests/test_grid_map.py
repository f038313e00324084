"""The grid worker's map: the page builder (offline, phone-ready, its layers and config), the
routes /map/grid/{code} and /map/me with their scope, and in headless Chromium the page a grid
worker logs into — cells, pins, popups, the 清单 — with nothing asked of any other host."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.deps import get_now
from geo import crs as gcrs
from geo.cases.reference import load_reference_data
from geo.cases.schema import CHINA_TZ
from geo.settings import MapSettings
from geo.workflow.machine import TERMINAL
from static_map.basemap import NONE, basemap_for
from static_map.grid_map import build_grid_map, build_no_grid_page, neighbour_bbox
from tests.live_site import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveSite,
    chromium_or_skip,
    click_free_spot,
    log_in,
    watched_page,
)
from tests.page_parts import overlay_names, start_config

ARTIFACTS = Path(__file__).parent / "artifacts"
CODE = "210202001002001"
OTHER = "210202001002002"


def _square(west: float, south: float, size: float = 0.01) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[west, south], [west + size, south],
                                                [west + size, south + size],
                                                [west, south + size], [west, south]]]}


def _cells(*codes: str, name: str = "测试社区") -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": _square(121.70 + 0.01 * i, 38.90),
         "properties": {"code": code, "parent_code": code[:12], "parent_name": name}}
        for i, code in enumerate(codes)]}


# --- the page builder ---------------------------------------------------------------------------

def test_page_is_offline_phone_ready_and_loads_its_scripts_in_order() -> None:
    page = build_grid_map(_cells(CODE), today="2020-06-15")
    assert page.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    assert '<meta name="viewport" content="width=device-width' in page
    assert re.findall(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}", page, re.IGNORECASE) == []
    assert re.findall(r'<script src="([^"]*)"', page) == [
        "/static/vendor/leaflet/leaflet.js", "/static/vendor/jquery/jquery.min.js",
        "/static/gridmap/gridmap_live.js", "/static/gridmap/grid_map.js"]
    assert re.findall(r'<link rel="stylesheet" href="([^"]*)"', page) == [
        "/static/vendor/leaflet/leaflet.css", "/static/gridmap/gridmap.css",
        "/static/gridmap/live_map.css"]
    for absent in ("bootstrap", "awesome", "L.tileLayer"):
        assert absent not in page


def test_layers_counts_and_list_are_on_the_page() -> None:
    page = build_grid_map(_cells(CODE), today="2020-06-15")
    assert overlay_names(page) == ["相邻网格", "本人网格", "未办结案件"]
    assert '"collapsed": true' in page  # a phone keeps the map; the panel opens on a tap
    for key in ("open", "due_soon", "overdue", "supervised", "total"):
        assert f'data-count="{key}"' in page
    assert "清单：未办结案件（按期限）" in page
    assert "data-list-items" in page and '<details class="gridmap-list" open>' in page
    assert f"<title>网格地图 {CODE} 测试社区</title>" in page
    assert '<form method="post" action="/logout">' in page


def test_config_names_the_cells_the_neighbour_box_and_the_api() -> None:
    config = start_config(build_grid_map(_cells(CODE, OTHER), today="2020-06-15"), "grid")
    assert config["grids"] == [CODE, OTHER]
    assert config["bbox"] == list(neighbour_bbox(121.70, 38.90, 121.72, 38.91))
    assert config["bbox"] == pytest.approx([121.69, 38.895, 121.73, 38.915])  # half a side
    assert config["crs"] == "wgs84" and config["today"] == "2020-06-15"
    assert config["api"]["cases"] == "/collections/cases/items"
    assert config["api"]["grids"] == "/collections/grids/items"
    assert config["available"] == {"cases": True}


def test_view_fits_the_workers_cells() -> None:
    page = build_grid_map(_cells(CODE, OTHER))
    fit = re.search(r"\.fitBounds\(\s*(\[\[.*?\]\])", page)
    assert fit is not None
    (south, west), (north, east) = json.loads(fit.group(1))
    assert (south, west, north, east) == pytest.approx((38.90, 121.70, 38.91, 121.72))


def test_a_missing_cases_layer_is_named_not_requested() -> None:
    config = start_config(build_grid_map(_cells(CODE), available={"cases": False}), "grid")
    assert config["available"] == {"cases": False}


def test_on_amap_the_overlays_and_the_view_are_gcj02() -> None:
    amap = basemap_for(MapSettings(basemap="amap"))
    page = build_grid_map(_cells(CODE), basemap=amap)
    assert start_config(page, "grid")["crs"] == "gcj02"
    assert "webrd0{s}.is.autonavi.com" in page
    fit = re.search(r"\.fitBounds\(\s*(\[\[.*?\]\])", page)
    assert fit is not None
    (south, west), (north, east) = json.loads(fit.group(1))
    x, y = gcrs.from_wgs84(121.70, 38.90, "gcj02")
    assert (west, south) == pytest.approx((float(x), float(y)), abs=1e-6)
    assert west - 121.70 > 0.004  # ≈ 430 m east: the shift is applied, not forgotten


def test_text_is_escaped_and_the_config_cannot_end_the_script() -> None:
    page = build_grid_map(_cells(CODE, name="</script><img src=x onerror=alert(1)>"))
    assert "<img src=x" not in page and "</script><img" not in page
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_map_needs_cells_with_geometry() -> None:
    with pytest.raises(ValueError, match="at least one grid cell"):
        build_grid_map({"type": "FeatureCollection", "features": []})
    bare = {"type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": None, "properties": {"code": CODE}}]}
    with pytest.raises(ValueError, match="without geometry"):
        build_grid_map(bare)


def test_no_grid_page_is_local_and_says_why() -> None:
    page = build_no_grid_page("没有分配网格 <b>")
    assert "没有分配网格 &lt;b&gt;" in page
    assert not re.search(r"https?://", page)
    assert NONE.layers == ()


# --- the routes ---------------------------------------------------------------------------------

def _grid_codes(session: Session, n: int = 3) -> list[str]:
    return list(session.execute(text(
        "SELECT gc.code FROM grid_cell gc JOIN boundary_generation g ON g.id = gc.generation_id "
        "AND g.is_active ORDER BY gc.code LIMIT :n"), {"n": n}).scalars())


@pytest.fixture
def grids(zhongshan: None, session: Session) -> list[str]:
    """Codes of active demo grids: the first two share a 社区 (the demo numbers them so)."""
    codes = _grid_codes(session, 1000)
    first = codes[0]
    same = [c for c in codes if c[:12] == first[:12]]
    other = next(c for c in codes if c[:9] != first[:9])
    return [same[0], same[1], other]


def test_admin_gets_a_grid_page_whose_assets_are_served(
        client: TestClient, grids: list[str]) -> None:
    resp = client.get(f"/map/grid/{grids[0]}")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert start_config(resp.text, "grid")["grids"] == [grids[0]]
    assert not re.search(r"https?://", resp.text)
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', resp.text):
        asset = client.get(url)
        assert asset.status_code == 200 and asset.content, url


@pytest.mark.parametrize("code", ["210202999999999", "21020200100200", "abc", "2" * 33])
def test_unknown_or_malformed_grid_is_404(client: TestClient, zhongshan: None,
                                          code: str) -> None:
    resp = client.get(f"/map/grid/{code}")
    assert resp.status_code in (404, 422)
    if len(code) <= 32:
        assert resp.status_code == 404 and "no grid" in resp.json()["detail"]


def test_grid_worker_sees_their_grid_and_nothing_else(
        login_as: Callable[..., TestClient], grids: list[str]) -> None:
    worker = login_as("grid_worker", grid_codes=[grids[0]])
    assert worker.get(f"/map/grid/{grids[0]}").status_code == 200
    for other in grids[1:]:
        resp = worker.get(f"/map/grid/{other}")
        # Out of scope reads exactly like a grid that does not exist.
        assert resp.status_code == 404 and resp.json()["detail"].startswith(f"no grid {other}")


def test_community_and_street_see_the_grids_in_their_area(
        login_as: Callable[..., TestClient], grids: list[str]) -> None:
    community = login_as("community", community_code=grids[0][:12])
    assert community.get(f"/map/grid/{grids[1]}").status_code == 200
    assert community.get(f"/map/grid/{grids[2]}").status_code == 404
    street_code = grids[0][:9] + "000"
    street = login_as("street", street_code=street_code)
    assert street.get(f"/map/grid/{grids[0]}").status_code == 200
    assert street.get(f"/map/grid/{grids[2]}").status_code == 404


def test_unit_handler_has_no_grid_page(login_as: Callable[..., TestClient], grids: list[str],
                                       session: Session) -> None:
    load_reference_data(session)
    unit_id = session.execute(text("SELECT min(id) FROM unit")).scalar_one()
    handler = login_as("unit_handler", unit_id=unit_id)
    assert handler.get(f"/map/grid/{grids[0]}").status_code == 404
    resp = handler.get("/map/me")
    assert resp.status_code == 400 and resp.headers["content-type"].startswith("text/html")
    assert "您的角色没有网格地图" in resp.text and "unit_handler" in resp.text


def test_map_me_redirects_a_worker_with_one_grid(
        login_as: Callable[..., TestClient], grids: list[str]) -> None:
    worker = login_as("grid_worker", grid_codes=[grids[0]])
    resp = worker.get("/map/me", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/map/grid/{grids[0]}"


def test_map_me_draws_all_grids_of_a_worker_with_several(
        login_as: Callable[..., TestClient], grids: list[str]) -> None:
    leader = login_as("grid_leader", grid_codes=grids[:2])
    resp = leader.get("/map/me")
    assert resp.status_code == 200
    assert start_config(resp.text, "grid")["grids"] == grids[:2]
    assert "等 2 个网格" in resp.text


def test_map_me_sends_command_roles_to_the_commanders_map(
        login_as: Callable[..., TestClient], zhongshan: None) -> None:
    resp = login_as("commander").get("/map/me", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/map/command"


def test_map_me_without_an_active_grid_is_a_clear_400_page(
        login_as: Callable[..., TestClient], grids: list[str], session: Session) -> None:
    worker = login_as("grid_worker", username="test_gridless", grid_codes=[grids[0]])
    # The grid was retired since (or the assignment emptied): nothing to show.
    session.execute(text("UPDATE app_user SET grid_codes = '{210202999999999}' "
                         "WHERE username = 'test_gridless'"))
    resp = worker.get("/map/me")
    assert resp.status_code == 400
    assert "您的账号还没有分配网格" in resp.text and "test_gridless" in resp.text


def test_pages_need_a_login(anon_client: TestClient, zhongshan: None) -> None:
    for path in (f"/map/grid/{CODE}", "/map/me"):
        assert anon_client.get(path).status_code == 401
        page = anon_client.get(path, headers={"Accept": "text/html"}, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")


def test_the_page_carries_the_request_day(app: FastAPI, client: TestClient,
                                          grids: list[str]) -> None:
    app.dependency_overrides[get_now] = lambda: datetime(2020, 6, 15, 23, 30, tzinfo=CHINA_TZ)
    assert start_config(client.get(f"/map/grid/{grids[0]}").text, "grid")["today"] == "2020-06-15"


# --- in the browser -----------------------------------------------------------------------------

def _expected_neighbourhood(site: LiveSite, bbox: list[float]) -> int:
    return int(site.scalar(
        "SELECT count(*) FROM grid_cell gc JOIN boundary_generation g ON g.id = "
        "gc.generation_id AND g.is_active WHERE ST_Intersects(gc.geom, "
        "ST_MakeEnvelope(:w, :s, :e, :n, 4326))", w=bbox[0], s=bbox[1], e=bbox[2], n=bbox[3]))


def _open_cases(site: LiveSite, located: bool) -> int:
    where = " AND location IS NOT NULL" if located else ""
    return int(site.scalar(
        "SELECT count(*) FROM petition_case WHERE grid_code = :g AND status <> ALL(:t)" + where,
        g=site.grid_code, t=sorted(TERMINAL)))


@pytest.mark.browser
def test_browser_grid_worker_map(live_site: LiveSite) -> None:
    sync_api = chromium_or_skip()
    site = live_site
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            page, watch = watched_page(browser, {"width": 1200, "height": 800})
            log_in(page, site, "grid_worker", "/map/me")
            assert page.url == f"{site.url}/map/grid/{site.grid_code}"
            page.wait_for_function("document.documentElement.dataset.gridmapState === 'ready'")
            config = page.evaluate("GridmapLive.pages[0].config")
            assert config["grids"] == [site.grid_code]

            # cells: the worker's one, labelled; every other active cell in the box, faint
            own = page.locator("path.gridmap-own-grid")
            sync_api.expect(own).to_have_count(1)
            assert page.locator("path.gridmap-grid").count() == _expected_neighbourhood(
                site, config["bbox"])
            label = page.locator(".gridmap-grid-label")
            sync_api.expect(label).to_contain_text(site.grid_code)
            community = site.scalar("SELECT name FROM area WHERE level = 'community' AND "
                                    "code = :c", c=site.grid_code[:12])
            sync_api.expect(label).to_contain_text(community)

            # pins: every open located case of the grid; the 清单 lists them by due date
            pins = page.locator("path.gridmap-case")
            assert pins.count() == _open_cases(site, located=True) == 5
            items = page.locator(".gridmap-list-item")
            assert items.count() == _open_cases(site, located=False)
            dues = [re.search(r"\d{4}-\d{2}-\d{2}", t).group(0)  # type: ignore[union-attr]
                    for t in page.locator(".gridmap-list-due").all_inner_texts()]
            assert dues == sorted(dues)
            counts = page.locator(".gridmap-counts")
            assert page.locator('[data-count="open"] b').inner_text() == "5"
            assert page.locator('[data-count="total"] b').inner_text() == "6"
            assert page.locator(".leaflet-control-layers-overlays label").all_inner_texts() == [
                " 相邻网格（{}）".format(page.locator("path.gridmap-neighbour-grid").count()),
                " 本人网格（1）", " 未办结案件（5）"]
            sync_api.expect(counts).to_contain_text("超期")
            # the overdue ones are red, and supervised (the workflow clock opened a 督办)
            assert page.locator("path.gridmap-band-red").count() == 2
            assert page.locator("path.gridmap-band-red.gridmap-supervised").count() == 2

            popup = page.locator(".leaflet-popup-content")
            page.locator('path.gridmap-case[data-case="LIVE-G-4"]').click()
            sync_api.expect(popup).to_have_count(1)  # an earlier popup fades out first
            sync_api.expect(popup).to_contain_text("案件 LIVE-G-4")
            sync_api.expect(popup).to_contain_text("物业")
            sync_api.expect(popup).to_contain_text("超期")
            sync_api.expect(popup).to_contain_text("赵*")  # masked petitioner
            assert "赵六" not in popup.inner_text()
            link = popup.locator("a", has_text="查看案件")
            case_id = site.scalar("SELECT id FROM petition_case WHERE external_id = 'LIVE-G-4'")
            assert link.get_attribute("href") == f"/cases/{case_id}"

            click_free_spot(page, "path.gridmap-own-grid")
            sync_api.expect(popup).to_have_count(1)
            sync_api.expect(popup).to_contain_text(f"本人网格 {site.grid_code}")
            sync_api.expect(popup).to_contain_text("所属社区")
            neighbour = page.locator(f'path.gridmap-neighbour-grid[data-code="'
                                     f'{site.neighbour_code}"]')
            click_free_spot(page, f'path.gridmap-neighbour-grid[data-code="'
                                  f'{site.neighbour_code}"]')
            assert neighbour.count() == 1
            sync_api.expect(popup).to_have_count(1)
            sync_api.expect(popup).to_contain_text(f"相邻网格 {site.neighbour_code}")

            # the list opens a case's popup on the map
            items.first.locator("button").click()
            sync_api.expect(popup).to_have_count(1)
            sync_api.expect(popup).to_contain_text("案件 LIVE-G-5")  # the earliest due date
            page.mouse.move(5, 700)
            page.wait_for_function(
                "getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "grid_map.png"))

            # a phone: the list under the map, finger-sized buttons
            phone, phone_watch = watched_page(browser, {"width": 390, "height": 844},
                                              is_mobile=True, has_touch=True)
            log_in(phone, site, "grid_worker", f"/map/grid/{site.grid_code}")
            phone.wait_for_function(
                "document.documentElement.dataset.gridmapState === 'ready'")
            map_box = phone.locator(".gridmap-mapbox").bounding_box()
            side = phone.locator(".gridmap-side").bounding_box()
            assert map_box and side and side["y"] >= map_box["y"] + map_box["height"] - 1
            assert map_box["width"] == pytest.approx(390, abs=1)
            button = phone.locator(".gridmap-list-button").first.bounding_box()
            assert button and button["height"] >= 44
            assert phone.locator("path.gridmap-case").count() == 5
            phone.screenshot(path=str(ARTIFACTS / "grid_map_phone.png"), full_page=True)
        finally:
            browser.close()

    for w in (watch, phone_watch):
        assert w.other_hosts() == []
        assert w.errors == []
        assert w.bad_responses == []
    assert any(u.endswith("/static/gridmap/grid_map.js") for u in watch.requested)
    assert not any("/basemap/" in u for u in watch.requested)  # the default: no base map
    assert any("/collections/cases/items?grid_code=" in u for u in watch.requested)
