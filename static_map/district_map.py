"""The district page: 街道, 社区 and 网格 boundaries as one folium HTML page that works offline."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
from branca.element import Figure, MacroElement
from jinja2 import Template

from static_map.assets import OWN_URL, VENDOR_URL, vendor_css, vendor_js
from static_map.live_map import bounds_of, geometry_positions

# Shown only when there is nothing to fit the view to: the middle of 中山区, 大连.
_FALLBACK_CENTER = (38.89, 121.72)
_APPROXIMATE = "示意"
_NOT_OFFICIAL = "示意，非官方边界"
# 街道 and 社区 lines are drawn a second time, above the 网格 fills and deaf to the pointer, so
# they stay readable while a click inside a 网格 still reaches the 网格. Leaflet's overlayPane
# is at z-index 400 and markerPane at 600.
_OUTLINE_PANE_Z = 450
_COORD_DECIMALS = 6  # ≈ 0.1 m: finer digits only make the page heavier

# src/href pointing at another host (absolute or protocol-relative): the page must load
# everything from gridmap itself.
_EXTERNAL_REF = re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*((?:[a-z][a-z0-9+.-]*:)?//[^"'\s>]*)""",
                           re.IGNORECASE)


@dataclass(frozen=True)
class _Layer:
    """How one boundary level is drawn and described."""

    name: str
    class_name: str  # CSS class on every polygon: a stable hook for styles and browser tests
    style: Mapping[str, Any]
    highlight: Mapping[str, Any]
    tooltip: tuple[tuple[str, str], ...]  # (display property, Chinese alias)
    popup: tuple[tuple[str, str], ...]
    # > 0: also draw the lines in a pane this far above the 网格 (see _OUTLINE_PANE_Z)
    outline_rank: int = 0

    @property
    def outline_pane(self) -> str:
        """Name of the Leaflet pane holding this level's redrawn lines."""
        return f"{self.class_name}-outlines"


# Drawn bottom to top, so a click inside a 网格 hits the 网格 and not the 社区 around it.
_STREET = _Layer(
    name="街道",
    class_name="gridmap-street",
    style={"color": "#1f2a44", "weight": 4, "opacity": 0.9, "fillColor": "#1f2a44",
           "fillOpacity": 0.0},
    highlight={"weight": 6, "fillOpacity": 0.05},
    tooltip=(("name", "名称"), ("code", "代码")),
    popup=(("name", "名称"), ("code", "代码")),
    outline_rank=2,  # a 街道 line is also a 社区 line: draw the thick dark one last
)
_COMMUNITY = _Layer(
    name="社区",
    class_name="gridmap-community",
    style={"color": "#2563a8", "weight": 2, "opacity": 0.9, "dashArray": "6 4",
           "fillColor": "#2563a8", "fillOpacity": 0.04},
    highlight={"weight": 3, "fillOpacity": 0.12},
    tooltip=(("name", "名称"), ("code", "代码")),
    popup=(("name", "名称"), ("code", "代码"), ("parent", "所属街道"), ("households", "户数")),
    outline_rank=1,
)
_GRID = _Layer(
    name="网格",
    class_name="gridmap-grid",
    style={"color": "#c2410c", "weight": 1, "opacity": 0.8, "fillColor": "#fdba74",
           "fillOpacity": 0.3},
    highlight={"weight": 2, "fillOpacity": 0.55},
    tooltip=(("code", "网格编码"), ("name", "名称")),
    popup=(("code", "网格编码"), ("name", "名称"), ("parent", "所属社区"),
           ("grid_type", "网格类型"), ("households", "户数")),
)


class _Page(Figure):
    """folium's page with a Chinese language tag, a title and no favicon request."""

    _template = Template(
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n'
        "<head>\n"
        "    {{ this.header.render(**kwargs) }}\n"
        "    <title>{{ this.title|e }}</title>\n"
        '    <link rel="icon" href="data:,">\n'
        "</head>\n"
        "<body>\n"
        "    {{ this.html.render(**kwargs) }}\n"
        "</body>\n"
        "<script>\n"
        "    {{ this.script.render(**kwargs) }}\n"
        "</script>\n"
        "</html>\n"
    )


class _Legend(MacroElement):
    """Title and legend box, a plain-HTML Leaflet control at the bottom left (no bootstrap)."""

    _template = Template("""
        {% macro html(this, kwargs) %}
        <div id="{{ this.get_name() }}" class="gridmap-legend" role="region" aria-label="图例"
             hidden>{{ this.body }}</div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: "bottomleft"});
        {{ this.get_name() }}.onAdd = function () {
            var div = document.getElementById("{{ this.get_name() }}");
            div.hidden = false;
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, body: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's __init__ is unannotated
        self._name = "GridmapLegend"
        self.body = body


def build_district_map(
    streets: Mapping[str, Any],
    communities: Mapping[str, Any],
    grids: Mapping[str, Any],
    *,
    title: str = "中山区网格化管理地图",
    asset_base: str = VENDOR_URL,
    own_base: str = OWN_URL,
) -> str:
    """Full HTML of the offline district map from WGS84 GeoJSON FeatureCollections."""
    street_names = _names_by_code(streets)
    community_names = _names_by_code(communities)
    levels = (
        (_STREET, _display_features(streets, {})),
        (_COMMUNITY, _display_features(communities, street_names)),
        (_GRID, _display_features(grids, community_names)),
    )
    bounds = bounds_of(p for _, feats in levels for f in feats
                       for p in geometry_positions(f["geometry"]))
    center = _FALLBACK_CENTER if bounds is None else (
        (bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2)

    # No tiles: a base map would come from another host. Scale bar instead of a basemap.
    fmap = folium.Map(location=center, zoom_start=13, tiles=None, control_scale=True,
                      min_zoom=8, max_zoom=19)
    # folium's defaults pull Leaflet, jQuery, Bootstrap, Font Awesome and awesome-markers from
    # CDNs; the page needs only Leaflet, and jQuery for the popups, both served by gridmap.
    fmap.default_js = vendor_js(asset_base)
    own_css = ("gridmap_css", f"{own_base.rstrip('/')}/gridmap.css")
    fmap.default_css = [*vendor_css(asset_base), own_css]
    page = _Page(title=title)
    page.add_child(fmap)
    for layer in (_STREET, _COMMUNITY, _GRID):
        if not layer.outline_rank:
            continue
        folium.map.CustomPane(layer.outline_pane, z_index=_OUTLINE_PANE_Z + layer.outline_rank,
                              pointer_events=False).add_to(fmap)

    approximate_levels = []
    for layer, feats in levels:
        group = folium.FeatureGroup(name=layer.name).add_to(fmap)
        approximate = any(f["properties"]["boundary"] for f in feats)
        if approximate:
            approximate_levels.append(layer.name)
        if feats:  # folium's tooltip and popup need one feature to check their fields against
            _geojson(layer, feats, approximate).add_to(group)
            if layer.outline_rank:
                _outline(layer, feats).add_to(group)

    folium.LayerControl(collapsed=False).add_to(fmap)
    _Legend(_legend_html(title, approximate_levels)).add_to(fmap)
    if bounds is not None:
        fmap.fit_bounds(bounds, padding=(16, 16))

    out = page.render()
    external = _EXTERNAL_REF.findall(out)
    if external:
        raise ValueError(f"the map page would load from another host: {external}")
    return out


def _names_by_code(collection: Mapping[str, Any]) -> dict[str, str]:
    """code → name of the features that have both."""
    names = {}
    for feature in collection.get("features") or ():
        props = feature.get("properties") or {}
        if props.get("code") is not None and props.get("name"):
            names[str(props["code"])] = str(props["name"])
    return names


def _display_features(
    collection: Mapping[str, Any], parent_names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """New features carrying only what the page shows, every field present, text HTML-escaped.

    folium's tooltips and popups put values into innerHTML, and its popup calls a method on
    every value: a missing key breaks the popup, so absent properties become null.
    """
    out = []
    for feature in collection.get("features") or ():
        if not feature.get("geometry"):
            continue  # nothing to draw
        props = feature.get("properties") or {}
        parent_code = props.get("parent_code", props.get("community_code"))
        parent = None
        if parent_code is not None:
            parent_name = parent_names.get(str(parent_code))
            parent = f"{parent_name}（{parent_code}）" if parent_name else str(parent_code)
        shown = {
            "code": None if props.get("code") is None else str(props["code"]),
            "name": props.get("name"),
            "parent": parent,
            "households": props.get("households"),
            "grid_type": props.get("grid_type"),
            "boundary": _APPROXIMATE if _is_true(props.get("approximate")) else None,
        }
        out.append({
            "type": "Feature",
            "geometry": _rounded(feature["geometry"]),
            "properties": {k: _escape(v) for k, v in shown.items()},
        })
    return out


def _is_true(value: Any) -> bool:
    """A flag as stored in PostGIS (bool) or loosely in hand-written GeoJSON ("true", 1)."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "t", "1", "yes"}
    return value is True or (isinstance(value, int | float) and value == 1)


def _escape(value: Any) -> Any:
    """HTML-escape text (it ends up in innerHTML); numbers and nulls stay as they are."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    return html.escape(str(value))


def _constant(style: Mapping[str, Any]) -> Callable[[Any], dict[str, Any]]:
    """A folium style function giving every feature the same style (a fresh dict each time)."""
    return lambda _feature: dict(style)


def _geojson(layer: _Layer, features: list[dict[str, Any]], approximate: bool) -> folium.GeoJson:
    """One level's polygons with Chinese tooltip and popup."""
    extra = (("boundary", "边界"),) if approximate else ()
    tooltip = (*layer.tooltip, *extra)
    popup = (*layer.popup, *extra)
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=layer.name,
        control=False,
        zoom_on_click=False,
        style_function=_constant(layer.style),
        highlight_function=_constant(layer.highlight),
        tooltip=folium.GeoJsonTooltip(
            fields=[f for f, _ in tooltip], aliases=[a for _, a in tooltip], sticky=True),
        popup=folium.GeoJsonPopup(fields=[f for f, _ in popup], aliases=[a for _, a in popup]),
        # Leaflet's GeoJSON layer passes its options to each polygon: this sets their class.
        className=layer.class_name,
    )


def _outline(layer: _Layer, features: list[dict[str, Any]]) -> folium.GeoJson:
    """The level's lines again, geometry only, in the pane above the 网格 fills."""
    lines = {**layer.style, "fill": False}
    return folium.GeoJson(
        {"type": "FeatureCollection",
         "features": [{"type": "Feature", "geometry": f["geometry"], "properties": {}}
                      for f in features]},
        control=False,
        style_function=_constant(lines),
        pane=layer.outline_pane,
        interactive=False,
        className=f"{layer.class_name}-outline",
    )


def _legend_html(title: str, approximate_levels: Sequence[str]) -> str:
    """Inner HTML of the title and legend box."""
    items = "".join(
        f'<li><span class="gridmap-swatch" style="{_swatch_style(layer)}"></span>'
        f"{layer.name}</li>"
        for layer in (_STREET, _COMMUNITY, _GRID)
    )
    note = ""
    if approximate_levels:
        note = (f'<p class="gridmap-note">{"、".join(approximate_levels)}边界为程序生成：'
                f"{_NOT_OFFICIAL}</p>")
    return f'<h1 class="gridmap-title">{html.escape(title)}</h1><ul>{items}</ul>{note}'


def _swatch_style(layer: _Layer) -> str:
    """Inline CSS drawing a layer's stroke and fill in the legend, from the same style dict."""
    style = layer.style
    border = "dashed" if style.get("dashArray") else "solid"
    width = min(int(style["weight"]), 3)
    alpha = max(float(style.get("fillOpacity", 0)), 0.0)
    return (f"border:{width}px {border} {style['color']};"
            f"background:{_rgba(style['fillColor'], alpha)}")


def _rgba(hex_color: str, alpha: float) -> str:
    """'#rrggbb' and an opacity as a CSS rgba() colour."""
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:g})"


def _rounded(geometry: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a GeoJSON geometry with coordinates rounded to _COORD_DECIMALS."""
    if geometry.get("type") == "GeometryCollection":
        return {"type": "GeometryCollection",
                "geometries": [_rounded(g) for g in geometry.get("geometries") or ()]}

    def walk(coords: Any) -> Any:
        if coords and isinstance(coords[0], int | float):
            return [round(c, _COORD_DECIMALS) for c in coords]
        return [walk(c) for c in coords]

    return {"type": geometry["type"], "coordinates": walk(geometry.get("coordinates") or [])}
