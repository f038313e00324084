"""The commander's map: the page builder (offline, its layers, window selector and config), the
route /map/command (roles, window, category), and in headless Chromium the page a commander
logs into — outlines, choropleth and Gi*, projects, clusters, pins, headline numbers, a window
change — with nothing asked of any other host."""

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
from sqlalchemy.orm import Session

from api.deps import get_now
from geo import crs as gcrs
from geo.cases.reference import load_reference_data
from geo.cases.schema import CHINA_TZ
from geo.settings import MapSettings
from geo.workflow.machine import TERMINAL, WINDOW_RULES
from static_map.basemap import basemap_for
from static_map.command_map import build_command_map
from tests.live_site import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TODAY,
    LiveSite,
    chromium_or_skip,
    click_free_spot,
    log_in,
    watched_page,
)
from tests.page_parts import overlay_names, start_config

ARTIFACTS = Path(__file__).parent / "artifacts"
WINDOW = ("2020-01-01", "2020-06-15")
LAYER_NAMES = ["区界", "街道", "社区", "案次分布（网格）", "热点/冷点（Gi*）", "项目热点", "聚集区",
               "超期/督办案件", "包案案件"]


def _district() -> dict[str, Any]:
    ring = [[121.70, 38.90], [121.72, 38.90], [121.72, 38.92], [121.70, 38.92], [121.70, 38.90]]
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
         "properties": {"code": "210202", "name": "中山区"}}]}


def _district_ring(page: str) -> list[list[float]]:
    found = re.search(r"geo_json_\w+_add\((\{.*?\})\);", page, re.DOTALL)
    assert found
    ring: list[list[float]] = json.loads(found.group(1))["features"][0]["geometry"][
        "coordinates"][0]
    return ring


# --- the page builder ---------------------------------------------------------------------------

def test_page_is_offline_and_loads_its_scripts_in_order() -> None:
    page = build_command_map(_district(), window=WINDOW)
    assert page.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    assert '<meta name="viewport" content="width=device-width' in page
    assert re.findall(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}", page, re.IGNORECASE) == []
    assert re.findall(r'<script src="([^"]*)"', page) == [
        "/static/vendor/leaflet/leaflet.js", "/static/vendor/jquery/jquery.min.js",
        "/static/gridmap/gridmap_live.js", "/static/gridmap/command_map.js"]
    assert "L.tileLayer" not in page and "bootstrap" not in page


def test_layers_in_an_expanded_layer_control() -> None:
    page = build_command_map(_district(), window=WINDOW)
    assert overlay_names(page) == LAYER_NAMES
    assert '"collapsed": false' in page
    for key in ("district", "streets", "choropleth", "gi", "projects", "clusters", "alerts",
                "leaders"):
        assert f'data-layer-status=\\"{key}\\"' in page


def test_district_outline_is_drawn_into_the_page_and_fitted() -> None:
    page = build_command_map(_district(), window=WINDOW)
    assert '"className": "gridmap-district"' in page and '"interactive": false' in page
    assert _district_ring(page)[0] == [121.70, 38.90]
    fit = re.search(r"\.fitBounds\(\s*(\[\[.*?\]\])", page)
    assert fit is not None
    (south, west), (north, east) = json.loads(fit.group(1))
    assert (south, west, north, east) == pytest.approx((38.90, 121.70, 38.92, 121.72))


def test_window_selector_headline_and_config() -> None:
    page = build_command_map(_district(), window=WINDOW,
                             categories=[("housing", "住建"), ("property", "物业")],
                             category="property")
    assert '<input type="date" name="from" value="2020-01-01" required>' in page
    assert '<input type="date" name="to" value="2020-06-15" required>' in page
    assert '<option value="property" selected>物业</option>' in page
    assert '<option value="housing">住建</option>' in page
    for key, label in (("submissions", "件次"), ("persons", "人次"), ("cases", "案次"),
                       ("acceptance", "及时受理率"), ("on_time", "按期办结率"),
                       ("satisfaction", "满意率"), ("overdue", "超期")):
        assert f'data-headline="{key}"><b>–</b><span>{label}</span>' in page
    config = start_config(page, "command")
    assert config["window"] == {"from": "2020-01-01", "to": "2020-06-15",
                                "category": "property"}
    assert config["crs"] == "wgs84"
    assert config["api"]["hotspots"] == "/hotspots"
    assert config["api"]["rates"] == "/stats/rates"
    assert config["available"] == {"cases": True, "hotspots": True, "clusters": True,
                                   "rates": True}


def test_missing_api_layers_are_named_in_the_config() -> None:
    config = start_config(build_command_map(_district(), window=WINDOW,
                                       available={"hotspots": False, "rates": False}), "command")
    assert config["available"] == {"cases": True, "hotspots": False, "clusters": True,
                                   "rates": False}


def test_on_amap_the_district_and_overlays_are_gcj02() -> None:
    district = _district()
    page = build_command_map(district, window=WINDOW,
                             basemap=basemap_for(MapSettings(basemap="amap")))
    assert start_config(page, "command")["crs"] == "gcj02"
    x, y = gcrs.from_wgs84(121.70, 38.90, "gcj02")
    assert _district_ring(page)[0] == pytest.approx([float(x), float(y)], abs=1e-6)
    # the caller's outline is not shifted in place
    assert district["features"][0]["geometry"]["coordinates"][0][0] == [121.70, 38.90]


def test_category_names_are_escaped() -> None:
    page = build_command_map(_district(), window=WINDOW,
                             categories=[("x", "<script>alert(1)</script>")])
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- the route ----------------------------------------------------------------------------------

@pytest.fixture
def reference(zhongshan: None, session: Session) -> None:
    """Units and categories (rolled back with the test)."""
    load_reference_data(session)


def test_commander_gets_the_page_with_a_year_to_today(
        app: FastAPI, login_as: Callable[..., TestClient], reference: None) -> None:
    app.dependency_overrides[get_now] = lambda: datetime(2020, 6, 15, 9, 0, tzinfo=CHINA_TZ)
    resp = login_as("commander").get("/map/command")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    config = start_config(resp.text, "command")
    assert config["window"] == {"from": "2019-06-17", "to": "2020-06-15", "category": ""}
    assert config["available"]["hotspots"] and config["available"]["rates"]
    assert '<option value="property">物业</option>' in resp.text
    assert "检举控告" not in resp.text  # restricted: commanders do not see the category
    assert not re.search(r"https?://", resp.text)
    assert '"className": "gridmap-district"' in resp.text


def test_window_and_category_from_the_query(login_as: Callable[..., TestClient],
                                            reference: None) -> None:
    resp = login_as("commander").get(
        "/map/command", params={"from": "2020-03-01", "to": "2020-03-31", "category": "labour"})
    assert resp.status_code == 200
    assert start_config(resp.text, "command")["window"] == {
        "from": "2020-03-01", "to": "2020-03-31", "category": "labour"}
    assert '<option value="labour" selected>' in resp.text


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2020-04-01", "to": "2020-03-01"}, "from"),
    ({"from": "2020-02-30"}, "from"),
    ({"to": "yesterday"}, "to"),
    ({"category": "nonsense"}, "category"),
    ({"category": "accusation"}, "category"),  # restricted for a commander
])
def test_bad_window_or_category_is_422_naming_it(
        login_as: Callable[..., TestClient], reference: None, params: dict[str, str],
        field: str) -> None:
    resp = login_as("commander").get("/map/command", params=params)
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"][-1] == field


def test_discipline_may_choose_the_restricted_category(
        login_as: Callable[..., TestClient], reference: None) -> None:
    resp = login_as("discipline").get("/map/command", params={"category": "accusation"})
    assert resp.status_code == 200 and "检举控告" in resp.text


@pytest.mark.parametrize("role", ["registrar", "admin", "street", "community"])
def test_area_and_district_roles_get_the_page(
        login_as: Callable[..., TestClient], reference: None, role: str) -> None:
    scope = {"street": {"street_code": "210202008000"},
             "community": {"community_code": "210202008007"}}.get(role, {})
    assert login_as(role, **scope).get("/map/command").status_code == 200


def test_grid_worker_is_refused_with_a_pointer_to_their_map(
        login_as: Callable[..., TestClient], reference: None, session: Session) -> None:
    from sqlalchemy import text

    grid = session.execute(text(
        "SELECT gc.code FROM grid_cell gc JOIN boundary_generation g ON g.id = "
        "gc.generation_id AND g.is_active ORDER BY gc.code LIMIT 1")).scalar_one()
    resp = login_as("grid_worker", grid_codes=[grid]).get("/map/command")
    assert resp.status_code == 403 and "/map/me" in resp.json()["detail"]


def test_command_page_needs_a_login(anon_client: TestClient) -> None:
    assert anon_client.get("/map/command").status_code == 401


# --- in the browser -----------------------------------------------------------------------------

def _count(site: LiveSite, query: str, **params: Any) -> int:
    return int(site.scalar(query, **params))


def _active(level: str) -> str:
    if level == "grid":
        return ("SELECT count(*) FROM grid_cell gc JOIN boundary_generation g ON "
                "g.id = gc.generation_id AND g.is_active")
    return ("SELECT count(*) FROM area a JOIN boundary_generation g ON g.id = a.generation_id "
            f"AND g.is_active WHERE a.level = '{level}'")


# Open 督办 or an obligation past its due date (not a window: those are rights), located.
_ALERTS = """
    SELECT count(*) FROM petition_case c
    WHERE c.location IS NOT NULL AND (:category = '' OR c.category_code = :category) AND (
        EXISTS (SELECT 1 FROM supervision s WHERE s.case_id = c.id AND s.closed_at IS NULL)
        OR (c.status <> ALL(:terminal) AND EXISTS (
            SELECT 1 FROM case_deadline d WHERE d.case_id = c.id AND d.active
            AND d.rule <> ALL(:windows) AND d.due_date < :today)))
"""
_LEADERS = """
    SELECT count(*) FROM petition_case c
    WHERE c.location IS NOT NULL AND c.leader IS NOT NULL AND c.status <> ALL(:terminal)
"""


def zoom_to(page: Any, group: str, case: str) -> None:
    """Centre the map on a case's pin, close up."""
    page.evaluate("""([group, number]) => {
        const page = GridmapLive.pages[0];
        page.map.closePopup();
        page.groups[group].eachLayer(l => {
            if (l.getElement().dataset.case === number)
                page.map.setView(l.getLatLng(), 18, {animate: false});
        });
    }""", [group, case])


@pytest.mark.browser
def test_browser_commander_map(live_site: LiveSite) -> None:
    sync_api = chromium_or_skip()
    site = live_site
    terminal, windows = sorted(TERMINAL), sorted(WINDOW_RULES)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            page, watch = watched_page(browser, {"width": 1280, "height": 860})
            log_in(page, site, "commander", "/map/command")
            assert page.url == f"{site.url}/map/command"
            page.wait_for_function("document.documentElement.dataset.gridmapState === 'ready'")
            config = page.evaluate("GridmapLive.pages[0].config")
            assert all(config["available"].values()), config["available"]

            # outlines
            assert page.locator("path.gridmap-district").count() >= 1
            assert page.locator("path.gridmap-street-line").count() == _count(site, _active(
                "street"))
            assert page.locator("path.gridmap-community-line").count() == _count(
                site, _active("community"))
            # choropleth: every active grid; Gi*: the cells /hotspots classes hot or cold
            cells = page.locator("path.gridmap-choropleth")
            assert cells.count() == _count(site, _active("grid"))
            window = {"from": "2019-06-17", "to": "2020-06-16"}
            hotspots = page.request.get(f"{site.url}/hotspots", params={"level": "grid",
                                                                         **window}).json()
            classed = [f for f in hotspots["features"]
                       if f["properties"]["gi_class"] not in (None, "ns")]
            assert page.locator("path.gridmap-gi").count() == len(classed)
            projects = page.request.get(f"{site.url}/hotspots",
                                        params={"level": "project", **window}).json()
            assert page.locator("path.gridmap-project").count() == len(
                projects["features"]) == 1
            clusters = page.request.get(f"{site.url}/hotspots/clusters", params=window).json()
            assert page.locator("path.gridmap-cluster").count() == len(clusters["features"])
            # pins
            alerts = _count(site, _ALERTS, category="", terminal=terminal, windows=windows,
                            today=TODAY)
            assert alerts > 0
            assert page.locator("path.gridmap-alert-pin").count() == alerts
            assert page.locator(".gridmap-leader-pin").count() == _count(
                site, _LEADERS, terminal=terminal) == 2
            # headline numbers from /stats/rates, 超期 from the cases
            cases = _count(site, "SELECT count(*) FROM petition_case WHERE received_at >= "
                           "'2019-06-17 00:00+08' AND received_at < '2020-06-16 00:00+08'")
            assert page.locator('[data-headline="cases"] b').inner_text() == str(cases)
            assert page.locator('[data-headline="overdue"] b').inner_text() != "–"
            panel = page.locator(".leaflet-control-layers-overlays")
            assert panel.locator(".gridmap-layer-name").all_inner_texts() == LAYER_NAMES
            states = panel.locator(".gridmap-layer-status").all_inner_texts()
            assert states[1:4] == [f"（{_count(site, _active('street'))}）",
                                   f"（{_count(site, _active('community'))}）",
                                   f"（{cells.count()}）"]
            assert all("加载失败" not in t and "暂未提供" not in t for t in states), states

            popup = page.locator(".leaflet-popup-content")
            zoom_to(page, "alerts", "LIVE-G-4")  # at the district's zoom pins overlap
            page.locator('path.gridmap-alert-pin[data-case="LIVE-G-4"]').click()
            sync_api.expect(popup).to_have_count(1)
            sync_api.expect(popup).to_contain_text("案件 LIVE-G-4")
            sync_api.expect(popup).to_contain_text("物业")
            sync_api.expect(popup).to_contain_text("督办中")
            zoom_to(page, "leaders", "LIVE-F-2")
            page.locator('.gridmap-leader-pin[data-case="LIVE-F-2"]').click()
            sync_api.expect(popup).to_have_count(1)
            sync_api.expect(popup).to_contain_text("王区长")

            far_cell = f'path.gridmap-choropleth[data-code="{site.neighbour_code}"]'
            page.evaluate("GridmapLive.pages[0].map.closePopup()")
            page.locator(far_cell).scroll_into_view_if_needed()
            page.evaluate("""(code) => {  // zoom to the cell so a free spot is easy to hit
                const page = GridmapLive.pages[0];
                page.groups.choropleth.eachLayer(l => {
                    if (l.getElement().dataset.code === code)
                        page.map.fitBounds(l.getBounds(), {animate: false});
                });
            }""", site.neighbour_code)
            click_free_spot(page, far_cell)
            sync_api.expect(popup).to_have_count(1)
            sync_api.expect(popup).to_contain_text(f"网格 {site.neighbour_code}")
            sync_api.expect(popup).to_contain_text("案次")

            page.evaluate("GridmapLive.pages[0].map.closePopup()")
            page.evaluate("GridmapLive.pages[0].map.fitBounds("
                          "GridmapLive.pages[0].groups.streets.getBounds(), {animate: false})")
            page.mouse.move(5, 500)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "command_map.png"))

            # a narrower window and one category: the layers are asked again and redrawn
            page.select_option("select[name=category]", "property")
            page.fill("input[name=from]", "2020-05-01")
            page.click(".gridmap-window button[type=submit]")
            page.wait_for_function("document.documentElement.dataset.gridmapState === 'ready'")
            assert page.url.endswith("/map/command?from=2020-05-01&to=2020-06-15"
                                     "&category=property")
            assert page.locator("path.gridmap-alert-pin").count() == _count(
                site, _ALERTS, category="property", terminal=terminal, windows=windows,
                today=TODAY)
            assert page.locator("path.gridmap-choropleth").count() == _count(
                site, _active("grid"))
            sync_api.expect(page.locator(".gridmap-legend-window")).to_contain_text(
                "2020-05-01 至 2020-06-15 · 物业")
        finally:
            browser.close()

    assert watch.other_hosts() == []
    assert watch.errors == []
    assert watch.bad_responses == []
    assert any("/hotspots?" in u and "category=property" in u for u in watch.requested)


@pytest.mark.browser
def test_browser_commander_map_degrades_gracefully(live_site: LiveSite) -> None:
    """A layer the app does not serve is named in the layer panel and never asked for (no
    console error at all); a layer whose request fails says so in the panel, the page's
    script only warns, and the only console errors are Chromium's own line per failed
    request."""
    sync_api = chromium_or_skip()
    site = live_site
    state = site.app.state
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            before = getattr(state, "map_layers", None)  # None: worked out on first use
            state.map_layers = {"cases": True, "hotspots": False, "clusters": False,
                                "rates": False}
            try:
                page, missing = watched_page(browser, {"width": 1000, "height": 700})
                log_in(page, site, "commander", "/map/command")
                page.wait_for_function(
                    "document.documentElement.dataset.gridmapState === 'ready'")
            finally:
                state.map_layers = before
            panel = page.locator(".leaflet-control-layers-overlays")
            states = dict(zip(panel.locator(".gridmap-layer-name").all_inner_texts(),
                              panel.locator(".gridmap-layer-status").all_inner_texts(),
                              strict=True))
            for name in ("案次分布（网格）", "热点/冷点（Gi*）", "项目热点", "聚集区"):
                assert states[name] == "（暂未提供）"
            assert states["超期/督办案件"] != "（暂未提供）"
            sync_api.expect(page.locator("[data-window-status]")).to_have_text("三率统计暂未提供")
            assert page.locator("path.gridmap-alert-pin").count() > 0

            failing, failed = watched_page(browser, {"width": 1000, "height": 700})
            failing.route(re.compile(r"/hotspots(/|\?|$)"), lambda route: route.fulfill(
                status=503, content_type="application/json", body='{"detail": "down"}'))
            log_in(failing, site, "commander", "/map/command")
            failing.wait_for_function(
                "document.documentElement.dataset.gridmapState === 'ready'")
            panel = failing.locator(".leaflet-control-layers-overlays")
            states = dict(zip(panel.locator(".gridmap-layer-name").all_inner_texts(),
                              panel.locator(".gridmap-layer-status").all_inner_texts(),
                              strict=True))
            for name in ("案次分布（网格）", "热点/冷点（Gi*）", "项目热点", "聚集区"):
                assert states[name] == "（加载失败）", states
            assert failing.locator("path.gridmap-street-line").count() > 0
        finally:
            browser.close()

    assert missing.errors == [] and missing.bad_responses == []
    assert not any("/hotspots" in u or "/stats/" in u for u in missing.requested)
    assert missing.other_hosts() == [] and failed.other_hosts() == []
    failures = [r for r in failed.bad_responses if "/hotspots" in r]
    assert len(failures) == 3  # grid, project, clusters
    assert failed.errors == ["Failed to load resource: the server responded with a status of "
                             "503 (Service Unavailable)"] * len(failures)
    assert sum("gridmap: layer" in w for w in failed.warnings) == 3
