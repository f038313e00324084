"""The district map page: offline (no other host), three Chinese layers, 示意 note, popups."""

from __future__ import annotations

import copy
import json
import os
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from static_map.assets import OWN_URL, VENDOR_URL, static_mounts, vendor_css, vendor_js
from static_map.district_map import build_district_map

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).parent / "artifacts"

STREET_CODE = "210202001"
COMMUNITY_CODES = ("210202001001", "210202001002")
GRID_CODES = ("210202001001001", "210202001001002", "210202001002001", "210202001002002")


def _square(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    return {"type": "Polygon",
            "coordinates": [[[west, south], [east, south], [east, north], [west, north],
                             [west, south]]]}


def _collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def _feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _district(approximate: bool) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """1 街道 (0.02° square at 121.69, 38.89), its west and east halves as 社区, 4 square 网格."""
    streets = _collection(_feature(_square(121.69, 38.89, 121.71, 38.91), code=STREET_CODE,
                                   name="青泥洼桥街道", parent_code=None, households=5100,
                                   approximate=approximate))
    communities = _collection(*(
        _feature(_square(121.69 + 0.01 * i, 38.89, 121.70 + 0.01 * i, 38.91), code=code,
                 name=name, parent_code=STREET_CODE, households=2500 + i,
                 approximate=approximate)
        for i, (code, name) in enumerate(zip(COMMUNITY_CODES, ("天津街社区", "友好社区"),
                                             strict=True))
    ))
    grids = _collection(*(
        _feature(_square(121.69 + 0.01 * (i // 2), 38.89 + 0.01 * (i % 2),
                         121.70 + 0.01 * (i // 2), 38.90 + 0.01 * (i % 2)),
                 code=code, name=f"第{i + 1}网格", parent_code=COMMUNITY_CODES[i // 2],
                 grid_type="综合网格" if i % 2 == 0 else "专属网格", households=600 + i,
                 approximate=approximate)
        for i, code in enumerate(GRID_CODES)
    ))
    return streets, communities, grids


def _embedded_layers(page: str) -> dict[str, dict[str, Any]]:
    """The FeatureCollections folium embeds (`<var>_add({...})`), by their polygons' className."""
    class_names = dict(re.findall(
        r'var (geo_json_\w+) = L\.geoJson\(null, \{.*?"className": "([\w-]+)"', page, re.DOTALL))
    decoder = json.JSONDecoder()
    return {class_names[m.group(1)]: decoder.raw_decode(page, m.end())[0]
            for m in re.finditer(r"(geo_json_\w+)_add\((?=\{)", page)}


def _alias_lists(page: str) -> list[list[str]]:
    """Every tooltip/popup alias list, decoded (folium writes them \\u-escaped)."""
    return [json.loads(m) for m in re.findall(r"let aliases = (\[.*?\]);", page)]


@pytest.fixture(scope="module")
def approximate_page() -> str:
    return build_district_map(*_district(approximate=True))


@pytest.fixture(scope="module")
def official_page() -> str:
    return build_district_map(*_district(approximate=False))


def test_page_names_no_other_host(approximate_page: str, official_page: str) -> None:
    for page in (approximate_page, official_page):
        assert re.findall(r"https?://", page, re.IGNORECASE) == []
        # protocol-relative references would reach another host just the same
        assert re.findall(r"""(?:src|href)\s*=\s*["']?//""", page, re.IGNORECASE) == []


def test_page_loads_only_local_leaflet_jquery_and_own_css() -> None:
    page = build_district_map(*_district(approximate=False), asset_base="/gm/static/vendor/",
                              own_base="/gm/static/gridmap")
    assert re.findall(r'<script src="([^"]*)"', page) == [
        "/gm/static/vendor/leaflet/leaflet.js", "/gm/static/vendor/jquery/jquery.min.js"]
    assert re.findall(r'<link rel="stylesheet" href="([^"]*)"', page) == [
        "/gm/static/vendor/leaflet/leaflet.css", "/gm/static/gridmap/gridmap.css"]
    for absent in ("bootstrap", "awesome", "fontawesome", "glyphicons"):
        assert absent not in page.lower()


def test_asset_urls_resolve_to_files_under_the_mounts() -> None:
    mounts = static_mounts()
    urls = [url for _, url in (*vendor_js(), *vendor_css())] + [f"{OWN_URL}/gridmap.css"]
    assert urls == ["/static/vendor/leaflet/leaflet.js", "/static/vendor/jquery/jquery.min.js",
                    "/static/vendor/leaflet/leaflet.css", "/static/gridmap/gridmap.css"]
    for url in urls:
        prefix, name = url.rsplit("/", 1)
        assert (mounts[prefix] / name).is_file(), url
    # Leaflet's CSS loads its control images relative to itself: they must be served too.
    assert (mounts[f"{VENDOR_URL}/leaflet"] / "images" / "layers.png").is_file()


def test_page_is_chinese_and_phone_ready(approximate_page: str) -> None:
    assert approximate_page.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    assert '<meta name="viewport" content="width=device-width' in approximate_page
    assert "<title>中山区网格化管理地图</title>" in approximate_page
    assert '<h1 class="gridmap-title">中山区网格化管理地图</h1>' in approximate_page


def test_three_layers_in_an_expanded_layer_control(approximate_page: str) -> None:
    overlays = re.search(r"overlays\s*:\s*\{(.*?)\}", approximate_page, re.DOTALL)
    assert overlays is not None
    names = [json.loads(n) for n in re.findall(r'("[^"]+")\s*:', overlays.group(1))]
    assert names == ["街道", "社区", "网格"]
    assert "L.control.layers(" in approximate_page
    assert '"collapsed": false' in approximate_page
    for class_name in ("gridmap-street", "gridmap-community", "gridmap-grid"):
        assert f'"className": "{class_name}"' in approximate_page


def test_tooltips_and_popups_have_chinese_aliases(official_page: str) -> None:
    assert _alias_lists(official_page) == [
        ["名称", "代码"], ["名称", "代码"],  # 街道 tooltip, popup
        ["名称", "代码"], ["名称", "代码", "所属街道", "户数"],  # 社区
        ["网格编码", "名称"], ["网格编码", "名称", "所属社区", "网格类型", "户数"],  # 网格
    ]


def test_approximate_boundaries_are_labelled_示意(approximate_page: str) -> None:
    assert "街道、社区、网格边界为程序生成：示意，非官方边界" in approximate_page
    assert all(aliases[-1] == "边界" for aliases in _alias_lists(approximate_page))
    for name in ("gridmap-street", "gridmap-community", "gridmap-grid"):
        collection = _embedded_layers(approximate_page)[name]
        assert {f["properties"]["boundary"] for f in collection["features"]} == {"示意"}


def test_official_boundaries_carry_no_示意(official_page: str) -> None:
    assert "示意" not in official_page and "非官方" not in official_page
    assert "\\u793a\\u610f" not in official_page  # 示意, as folium escapes it inside JSON
    assert all("边界" not in aliases for aliases in _alias_lists(official_page))


def test_only_the_approximate_layer_is_named_in_the_note() -> None:
    streets, communities, grids = _district(approximate=False)
    grids["features"][0]["properties"]["approximate"] = True
    page = build_district_map(streets, communities, grids)
    assert '<p class="gridmap-note">网格边界为程序生成：示意，非官方边界</p>' in page
    grid_layer = _embedded_layers(page)["gridmap-grid"]
    assert [f["properties"]["boundary"] for f in grid_layer["features"]] == [
        "示意", None, None, None]


def test_embedded_geojson_carries_codes_and_parents(official_page: str) -> None:
    layers = _embedded_layers(official_page)
    street_layer, community_layer, grid_layer = (
        layers[f"gridmap-{level}"] for level in ("street", "community", "grid"))
    assert [f["properties"]["code"] for f in street_layer["features"]] == [STREET_CODE]
    assert [f["properties"]["code"] for f in community_layer["features"]] == list(
        COMMUNITY_CODES)
    assert [f["properties"]["code"] for f in grid_layer["features"]] == list(GRID_CODES)
    first = grid_layer["features"][0]["properties"]
    assert first == {"code": GRID_CODES[0], "name": "第1网格",
                     "parent": f"天津街社区（{COMMUNITY_CODES[0]}）", "households": 600,
                     "grid_type": "综合网格", "boundary": None}
    assert community_layer["features"][1]["properties"]["parent"] == (
        f"青泥洼桥街道（{STREET_CODE}）")


def test_street_and_community_lines_are_redrawn_above_the_grids(official_page: str) -> None:
    layers = _embedded_layers(official_page)
    assert sorted(layers) == sorted(
        f"gridmap-{name}" for name in ("street", "street-outline", "community",
                                       "community-outline", "grid"))
    for level in ("street", "community"):
        outline = layers[f"gridmap-{level}-outline"]["features"]
        assert [f["geometry"] for f in outline] == [
            f["geometry"] for f in layers[f"gridmap-{level}"]["features"]]
        assert all(f["properties"] == {} for f in outline)
    for level in ("street", "community"):
        assert f'"pane": "gridmap-{level}-outlines",\n  "interactive": false,' in official_page


def test_coordinates_are_rounded_to_a_decimetre(official_page: str) -> None:
    ring = _embedded_layers(official_page)["gridmap-grid"]["features"][3]["geometry"][
        "coordinates"][0]
    assert ring[2] == [121.71, 38.91]  # 121.69 + 0.01 + 0.01 is 121.71000000000001 in floats


def test_view_is_fitted_to_the_data(official_page: str) -> None:
    fit = re.search(r"\.fitBounds\(\s*(\[\[.*?\]\])", official_page)
    assert fit is not None
    (south, west), (north, east) = json.loads(fit.group(1))
    assert (south, west, north, east) == pytest.approx((38.89, 121.69, 38.91, 121.71))


def test_missing_optional_properties_become_null() -> None:
    bare = _collection(_feature(_square(121.69, 38.89, 121.70, 38.90)),
                       {"type": "Feature", "geometry": _square(121.70, 38.89, 121.71, 38.90),
                        "properties": None},
                       {"type": "Feature", "geometry": None, "properties": {"code": "X"}})
    grids = _collection(_feature(_square(121.69, 38.89, 121.695, 38.895), code="G9",
                                 community_code="C404"))
    page = build_district_map(bare, _collection(), grids)
    layers = _embedded_layers(page)
    assert sorted(layers) == ["gridmap-grid", "gridmap-street", "gridmap-street-outline"]
    street_layer, grid_layer = layers["gridmap-street"], layers["gridmap-grid"]
    assert [f["properties"] for f in street_layer["features"]] == [
        dict.fromkeys(("code", "name", "parent", "households", "grid_type", "boundary"))] * 2
    # community_code (the grid_cell column) stands in for parent_code; unknown → code alone
    assert grid_layer["features"][0]["properties"]["parent"] == "C404"


def test_text_is_html_escaped_for_innerhtml() -> None:
    streets, communities, grids = _district(approximate=False)
    grids["features"][0]["properties"]["name"] = "<img src=x onerror=alert(1)>"
    page = build_district_map(streets, communities, grids, title="<b>区</b>")
    assert "<img src=x" not in page and "<b>区</b>" not in page
    grid_layer = _embedded_layers(page)["gridmap-grid"]
    assert grid_layer["features"][0]["properties"]["name"] == "&lt;img src=x onerror=alert(1)&gt;"


def test_empty_district_still_renders() -> None:
    page = build_district_map(_collection(), _collection(), {"type": "FeatureCollection"})
    assert "L.control.layers(" in page and "fitBounds" not in page
    assert _embedded_layers(page) == {}


def test_inputs_are_not_modified() -> None:
    district = _district(approximate=True)
    before = copy.deepcopy(district)
    build_district_map(*district)
    assert district == before


def test_absolute_asset_base_is_refused() -> None:
    with pytest.raises(ValueError, match="another host"):
        build_district_map(*_district(approximate=False), asset_base="https://cdn.example/x")


@pytest.fixture
def local_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A 127.0.0.1 server: the page at / and the static mounts, as the app would serve them."""
    mounts = {**static_mounts(), "/": tmp_path}
    prefixes = sorted(mounts, key=len, reverse=True)

    class Handler(SimpleHTTPRequestHandler):
        def translate_path(self, path: str) -> str:
            url_path = unquote(urlsplit(path).path)
            prefix = next(p for p in prefixes
                          if url_path == p or url_path.startswith(p.rstrip("/") + "/"))
            return str(mounts[prefix] / url_path[len(prefix):].lstrip("/"))

        def log_message(self, fmt: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.browser
def test_browser_draws_grids_and_opens_popups_offline(local_site: tuple[str, Path]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} missing (gridmap system test-deps installs it)"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    url, site = local_site
    (site / "index.html").write_text(build_district_map(*_district(approximate=True)),
                                     encoding="utf-8")

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 760})
            requested: list[str] = []
            errors: list[str] = []
            bad_responses: list[str] = []

            def only_this_host(route: Any) -> None:
                if urlsplit(route.request.url).hostname == "127.0.0.1":
                    route.continue_()
                else:
                    route.abort()  # recorded by the request listener; never leave the machine

            page.route("**/*", only_this_host)
            page.on("request", lambda req: requested.append(req.url))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
                    else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("response", lambda resp: bad_responses.append(f"{resp.status} {resp.url}")
                    if resp.status >= 400 else None)

            page.goto(f"{url}/", wait_until="networkidle")

            grids = page.locator("path.gridmap-grid")
            sync_api.expect(grids).to_have_count(len(GRID_CODES))
            assert page.locator("path.leaflet-interactive").count() == 1 + 2 + len(GRID_CODES)
            # the lines redrawn above the 网格 are there but take no clicks
            assert page.locator("path.gridmap-street-outline").count() == 1
            assert page.locator("path.gridmap-community-outline").count() == 2
            layer_labels = page.locator(".leaflet-control-layers-overlays label")
            assert [t.strip() for t in layer_labels.all_inner_texts()] == ["街道", "社区", "网格"]
            sync_api.expect(page.locator(".gridmap-legend")).to_contain_text("示意，非官方边界")

            popup = page.locator(".leaflet-popup-content")
            for i, code in enumerate(GRID_CODES):
                grids.nth(i).click()
                sync_api.expect(popup).to_have_count(1)
                sync_api.expect(popup).to_contain_text(code)
                sync_api.expect(popup).to_contain_text(f"第{i + 1}网格")
            sync_api.expect(popup).to_contain_text("所属社区")

            page.mouse.move(5, 400)  # off the polygons: no hover highlight in the picture
            page.wait_for_function(  # Leaflet fades popups in; wait for the end
                "getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "district_map.png"))
        finally:
            browser.close()

    other_hosts = [u for u in requested
                   if urlsplit(u).scheme not in ("data", "blob")
                   and urlsplit(u).hostname != "127.0.0.1"]
    assert other_hosts == []
    assert errors == []
    assert bad_responses == []
    assert any(u.endswith("/static/vendor/jquery/jquery.min.js") for u in requested)
