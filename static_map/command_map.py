"""The commander's map (/map/command): district, 街道 and 社区 outlines; a choropleth of cases
per grid for a chosen time window and category, with Getis-Ord Gi* hot and cold cells; project
hotspots with their counts and trend; density-cluster hulls; overdue and supervised (督办) cases
and 包案 cases as pins; a layer control, a legend, the window selector and the headline numbers
(件次, 人次, 案次, 三率, 超期).

Only the district outline is drawn into the page; static_map/assets/command_map.js loads every
other layer from the API (`/collections/*/items`, `/hotspots`, `/hotspots/clusters`,
`/stats/rates`) and reloads the windowed ones when the window or the category changes.
"""

from __future__ import annotations

import copy
import html
from collections.abc import Mapping, Sequence
from typing import Any

import folium

from geo.ogc.items import shift_features
from static_map.assets import OWN_URL, VENDOR_URL
from static_map.basemap import NONE, BaseMap
from static_map.live_map import (
    Layer,
    add_groups,
    bounds_of,
    finish,
    geometry_positions,
    nav_html,
    new_map,
)

SCRIPT = "command_map.js"
LAYERS = (
    Layer("district", "区界"),
    Layer("streets", "街道"),
    Layer("communities", "社区"),
    Layer("choropleth", "案次分布（网格）"),
    Layer("gi", "热点/冷点（Gi*）"),
    Layer("projects", "项目热点"),
    Layer("clusters", "聚集区"),
    Layer("alerts", "超期/督办案件"),
    Layer("leaders", "包案案件"),
)
# (key, label, CSS modifier) of the headline numbers; command_map.js fills them in.
_HEADLINE = (
    ("submissions", "件次", ""),
    ("persons", "人次", ""),
    ("cases", "案次", ""),
    ("acceptance", "及时受理率", ""),
    ("on_time", "按期办结率", ""),
    ("satisfaction", "满意率", ""),
    ("overdue", "超期", "red"),
)
DEFAULT_API = {
    "streets": "/collections/streets/items",
    "communities": "/collections/communities/items",
    "cases": "/collections/cases/items",
    "hotspots": "/hotspots",
    "clusters": "/hotspots/clusters",
    "rates": "/stats/rates",
    "case": "/cases/{id}",
    "history": "/cases/{id}/history",
}
_DISTRICT_STYLE = {"color": "#111827", "weight": 4, "opacity": 0.9, "fill": False}


def build_command_map(
    district: Mapping[str, Any],
    *,
    window: tuple[str, str],
    categories: Sequence[tuple[str, str]] = (),
    category: str | None = None,
    basemap: BaseMap = NONE,
    available: Mapping[str, bool] | None = None,
    title: str = "信访态势指挥图",
    api: Mapping[str, str] | None = None,
    asset_base: str = VENDOR_URL,
    own_base: str = OWN_URL,
) -> str:
    """Full HTML of the commander's map. `district`: the district outline (WGS84 Features);
    `window`: (from, to) ISO dates shown first; `categories`: (code, name) for the selector;
    `available`: which API layers exist (`cases`, `hotspots`, `clusters`, `rates`) — a missing
    one is named in the layer panel instead of being requested."""
    outline = [f for f in district.get("features") or () if f.get("geometry")]
    if basemap.overlay_crs != "wgs84":
        outline = copy.deepcopy(outline)
        shift_features(outline, basemap.overlay_crs)
    bounds = bounds_of(p for f in outline for p in geometry_positions(f["geometry"]))

    page, fmap = new_map(
        title=title, body_class="gridmap-app-command",
        top=_top_html(title, window, categories, category), side="", basemap=basemap,
        script=SCRIPT, asset_base=asset_base, own_base=own_base, zoom_start=13)
    groups = add_groups(fmap, LAYERS)
    if outline:
        folium.GeoJson(
            {"type": "FeatureCollection",
             "features": [{"type": "Feature", "geometry": f["geometry"], "properties": {}}
                          for f in outline]},
            control=False, interactive=False, className="gridmap-district",
            style_function=lambda _feature: dict(_DISTRICT_STYLE),
        ).add_to(groups["district"])
    config = {
        "window": {"from": window[0], "to": window[1], "category": category or ""},
        "crs": basemap.overlay_crs,
        "basemap": basemap.label,
        "api": dict(api or DEFAULT_API),
        "available": {"cases": True, "hotspots": True, "clusters": True, "rates": True,
                      **(available or {})},
    }
    return finish(page, fmap, kind="command", groups=groups, config=config, bounds=bounds,
                  basemap=basemap)


def _top_html(title: str, window: tuple[str, str], categories: Sequence[tuple[str, str]],
              category: str | None) -> str:
    headline = "".join(
        f'<li class="gridmap-count{" gridmap-count-" + mod if mod else ""}" '
        f'data-headline="{key}"><b>–</b><span>{label}</span></li>'
        for key, label, mod in _HEADLINE)
    options = '<option value="">全部类别</option>' + "".join(
        f'<option value="{html.escape(code)}"{" selected" if code == category else ""}>'
        f"{html.escape(name)}</option>" for code, name in categories)
    start, end = (html.escape(d) for d in window)
    form = (
        '<form class="gridmap-window" method="get" action="/map/command" data-window-form>'
        f'<label>起<input type="date" name="from" value="{start}" required></label>'
        f'<label>止<input type="date" name="to" value="{end}" required></label>'
        f'<label>类别<select name="category">{options}</select></label>'
        '<button type="submit" class="gridmap-button">应用</button>'
        '<span class="gridmap-window-status" data-window-status role="status"></span>'
        "</form>"
    )
    return (
        '<header class="gridmap-bar">'
        f'<h1 class="gridmap-bar-title">{html.escape(title)}</h1>'
        f'<ul class="gridmap-counts gridmap-headline" aria-live="polite">{headline}</ul>'
        f"{form}"
        f"{nav_html([('/map', '全区地图')])}"
        "</header>"
    )
