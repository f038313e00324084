"""The grid worker's map (/map/grid/{grid_code}, /map/me): their cells outlined and labelled,
the neighbouring cells faint, their open cases as pins coloured by deadline band with a legend
and a popup each, the 清单 of open cases by due date beside the map, counts on top.

The page is a folium skeleton; static_map/assets/grid_map.js loads the cells and the cases from
the API (OGC API Features: `grids` by bbox, `cases` by grid code) when the page opens. Built for
a phone on patrol too: the list folds under the map on a narrow screen, buttons are finger-sized.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from geo import crs as gcrs
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

SCRIPT = "grid_map.js"
LAYERS = (
    Layer("neighbours", "相邻网格"),
    Layer("own", "本人网格"),
    Layer("cases", "未办结案件"),
)
# How far around the worker's cells the neighbours are drawn: half the cells' extent, at least
# this many degrees (≈ 300 m at Dalian's latitude) on each side.
_MIN_MARGIN_DEG = 0.003
# (count key, label, CSS modifier) of the counts on top; grid_map.js fills them in.
_COUNTS = (
    ("open", "未办结", ""),
    ("due_soon", "临期", "orange"),
    ("overdue", "超期", "red"),
    ("supervised", "督办", "purple"),
    ("total", "累计案件", ""),
)
DEFAULT_API = {
    "grids": "/collections/grids/items",
    "cases": "/collections/cases/items",
    "case": "/cases/{id}",
    "history": "/cases/{id}/history",
}


def neighbour_bbox(west: float, south: float, east: float, north: float
                   ) -> tuple[float, float, float, float]:
    """The box around the worker's cells whose grid cells are drawn as neighbours (WGS84)."""
    dx = max((east - west) / 2, _MIN_MARGIN_DEG)
    dy = max((north - south) / 2, _MIN_MARGIN_DEG)
    return (round(west - dx, 6), round(south - dy, 6), round(east + dx, 6), round(north + dy, 6))


def build_grid_map(
    grids: Mapping[str, Any],
    *,
    basemap: BaseMap = NONE,
    available: Mapping[str, bool] | None = None,
    title: str | None = None,
    today: str | None = None,
    api: Mapping[str, str] | None = None,
    asset_base: str = VENDOR_URL,
    own_base: str = OWN_URL,
) -> str:
    """Full HTML of the map of the worker's cells (`grids`: their WGS84 Features from the
    `grids` collection). `available` says which API layers exist (`cases`); a missing one is
    named in the layer panel instead of being requested."""
    cells = [f for f in grids.get("features") or () if (f.get("properties") or {}).get("code")]
    if not cells:
        raise ValueError("a grid map needs at least one grid cell")
    codes = [str(f["properties"]["code"]) for f in cells]
    wgs_bounds = bounds_of(p for f in cells for p in geometry_positions(f.get("geometry")))
    if wgs_bounds is None:
        raise ValueError(f"grid cells without geometry: {', '.join(codes)}")
    (south, west), (north, east) = wgs_bounds
    bbox = neighbour_bbox(west, south, east, north)
    heading = title or _title(cells)

    page, fmap = new_map(
        title=heading, body_class="gridmap-app-grid", top=_top_html(heading, cells),
        side=_side_html(), basemap=basemap, script=SCRIPT, asset_base=asset_base,
        own_base=own_base, zoom_start=15)
    groups = add_groups(fmap, LAYERS)
    config = {
        "grids": codes,
        "bbox": list(bbox),
        "crs": basemap.overlay_crs,
        "basemap": basemap.label,
        "today": today,
        "api": dict(api or DEFAULT_API),
        "available": {"cases": True, **(available or {})},
    }
    return finish(page, fmap, kind="grid", groups=groups, config=config,
                  bounds=_display_bounds(wgs_bounds, basemap.overlay_crs), basemap=basemap,
                  collapsed=True)


def _display_bounds(bounds: list[list[float]], overlay_crs: str) -> list[list[float]]:
    """The view to fit, in the CRS the overlays are drawn in (GCJ-02 on Amap)."""
    if overlay_crs == "wgs84":
        return bounds
    (south, west), (north, east) = bounds
    xs, ys = (np.atleast_1d(v) for v in gcrs.from_wgs84([west, east], [south, north],
                                                         overlay_crs))
    return [[round(float(ys[0]), 6), round(float(xs[0]), 6)],
            [round(float(ys[1]), 6), round(float(xs[1]), 6)]]


def _title(cells: Sequence[Mapping[str, Any]]) -> str:
    first = cells[0]["properties"]
    place = first.get("parent_name") or first.get("street_name") or ""
    if len(cells) == 1:
        return f"网格地图 {first['code']} {place}".strip()
    return f"网格地图 {place}等 {len(cells)} 个网格".strip()


def _top_html(heading: str, cells: Sequence[Mapping[str, Any]]) -> str:
    counts = "".join(
        f'<li class="gridmap-count{" gridmap-count-" + mod if mod else ""}" '
        f'data-count="{key}"><b>–</b><span>{label}</span></li>'
        for key, label, mod in _COUNTS)
    names = "、".join(_cell_name(c["properties"]) for c in cells)
    return (
        '<header class="gridmap-bar">'
        f'<h1 class="gridmap-bar-title">{html.escape(heading)}</h1>'
        f'<p class="gridmap-bar-sub">本人网格：{names}</p>'
        f'<ul class="gridmap-counts" aria-live="polite">{counts}</ul>'
        f"{nav_html([('/map', '全区地图')])}"
        "</header>"
    )


def _cell_name(props: Mapping[str, Any]) -> str:
    """'210202008007001（天津街社区）', escaped."""
    code = html.escape(str(props["code"]))
    community = props.get("parent_name")
    return f"{code}（{html.escape(str(community))}）" if community else code


def _side_html() -> str:
    return (
        '<aside class="gridmap-side">'
        '<details class="gridmap-list" open>'
        '<summary>清单：未办结案件（按期限）<span class="gridmap-list-count" '
        'data-list-count></span></summary>'
        '<p class="gridmap-list-status" data-list-status role="status">加载中…</p>'
        '<ol class="gridmap-list-items" data-list-items></ol>'
        "</details>"
        "</aside>"
    )


def build_no_grid_page(message: str, *, own_base: str = OWN_URL) -> str:
    """A small page for someone with no grid to show (no grid assigned, or none active)."""
    own = own_base.rstrip("/")
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>没有可显示的网格</title>\n"
        '<link rel="icon" href="data:,">\n'
        f'<link rel="stylesheet" href="{own}/gridmap.css">\n'
        f'<link rel="stylesheet" href="{own}/live_map.css">\n'
        '</head>\n<body class="gridmap-app gridmap-app-empty">\n'
        '<header class="gridmap-bar"><h1 class="gridmap-bar-title">没有可显示的网格</h1>'
        f"{nav_html([('/map', '全区地图')])}</header>\n"
        f'<main class="gridmap-message"><p>{html.escape(message)}</p></main>\n'
        "</body>\n</html>\n"
    )
