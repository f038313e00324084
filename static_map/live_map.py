"""The skeleton shared by the map pages whose layers the browser loads from the API (the grid
worker's map, the commander's map): a folium map with only gridmap's own assets and the base
map setting, a page layout with a header bar and a side panel, empty named layer groups in a
layer control, and one call that hands the map, its groups and a JSON config to the page's
script (static_map/assets/gridmap_live.js and the page's own script).

The pages hold no case data: every layer is fetched with the user's login cookie when the page
opens, so a page stays current without being rebuilt.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
from branca.element import Figure, MacroElement
from jinja2 import Template

from static_map.assets import OWN_URL, VENDOR_URL, vendor_css, vendor_js
from static_map.basemap import BaseMap

COMMON_JS = "gridmap_live.js"
PAGE_CSS = ("gridmap.css", "live_map.css")
# Shown only when there is nothing to fit the view to: the middle of 中山区, 大连.
FALLBACK_CENTER = (38.89, 121.72)

# Any absolute or protocol-relative URL. With no external base map the page must contain none.
_ANY_HOST = re.compile(r"(?:[a-z][a-z0-9+.-]*:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)
# The page's own script and stylesheet references: always local, whatever the base map.
_ASSET_REF = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']*)["']""",
                        re.IGNORECASE)


@dataclass(frozen=True)
class Layer:
    """One overlay of a page: the key its script uses, the Chinese name in the layer control,
    and whether it is shown when the page opens."""

    key: str
    name: str
    show: bool = True

    def label(self) -> str:
        """The layer control's label: the name and a slot the script writes the layer's
        state into (loading, count, failed, not available)."""
        return (f'<span class="gridmap-layer-name">{html.escape(self.name)}</span>'
                f'<span class="gridmap-layer-status" data-layer-status="{self.key}"></span>')


class LivePage(Figure):
    """An HTML page: header bar on top, the map beside (or, on a phone, above) a side panel."""

    _template = Template(
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n'
        "<head>\n"
        "    {{ this.header.render(**kwargs) }}\n"
        "    <title>{{ this.title|e }}</title>\n"
        '    <link rel="icon" href="data:,">\n'
        "</head>\n"
        '<body class="gridmap-app {{ this.body_class }}">\n'
        "{{ this.top }}\n"
        '<main class="gridmap-main">\n'
        '<div class="gridmap-mapbox">\n'
        "    {{ this.html.render(**kwargs) }}\n"
        "</div>\n"
        "{{ this.side }}\n"
        "</main>\n"
        "</body>\n"
        "<script>\n"
        "    {{ this.script.render(**kwargs) }}\n"
        "</script>\n"
        "</html>\n"
    )

    def __init__(self, title: str, body_class: str, top: str, side: str) -> None:
        super().__init__(title=title)
        self.body_class = body_class
        self.top = top  # trusted HTML built by the page builder (every value escaped)
        self.side = side


class _Start(MacroElement):
    """`GridmapLive.start(kind, map, {key: group}, config)` at the end of the map's script."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        GridmapLive.start({{ this.kind_json }}, {{ this._parent.get_name() }}, {
        {%- for key, group in this.groups.items() %}
            {{ key|tojson }}: {{ group.get_name() }}{{ "," if not loop.last }}
        {%- endfor %}
        }, {{ this.config_json }});
        {% endmacro %}
    """)

    def __init__(self, kind: str, groups: Mapping[str, folium.FeatureGroup],
                 config: Mapping[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca's __init__ is unannotated
        self._name = "GridmapStart"
        self.kind_json = script_json(kind)
        self.groups = dict(groups)
        self.config_json = script_json(config)


def script_json(value: Any) -> str:
    """JSON safe inside an HTML <script>: no `</script>`, `<!--` or U+2028 can end it early."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def new_map(*, title: str, body_class: str, top: str, side: str, basemap: BaseMap,
            script: str, asset_base: str = VENDOR_URL, own_base: str = OWN_URL,
            zoom_start: int = 14) -> tuple[LivePage, folium.Map]:
    """The page and its folium map: local Leaflet and jQuery, gridmap's CSS and scripts
    (the shared one, then `script`), the base map's tile layers (none by default)."""
    fmap = folium.Map(location=FALLBACK_CENTER, zoom_start=zoom_start, tiles=None,
                      control_scale=True, min_zoom=8, max_zoom=19)
    own = own_base.rstrip("/")
    # folium's defaults pull Leaflet, jQuery, Bootstrap and Font Awesome from CDNs; these pages
    # need Leaflet, and jQuery for folium's own popups, both served by gridmap.
    fmap.default_js = [*vendor_js(asset_base), ("gridmap_live", f"{own}/{COMMON_JS}"),
                       (script.removesuffix(".js"), f"{own}/{script}")]
    fmap.default_css = [*vendor_css(asset_base),
                        *((name.removesuffix(".css"), f"{own}/{name}") for name in PAGE_CSS)]
    page = LivePage(title, body_class, top, side)
    page.add_child(fmap)
    for tiles in basemap.layers:
        folium.TileLayer(
            tiles=tiles.url, attr=tiles.attribution or " ", name=basemap.label,
            subdomains=tiles.subdomains or "abc", max_zoom=tiles.max_zoom,
            max_native_zoom=tiles.max_native_zoom, min_zoom=tiles.min_zoom, control=False,
        ).add_to(fmap)
    return page, fmap


def add_groups(fmap: folium.Map, layers: Iterable[Layer]) -> dict[str, folium.FeatureGroup]:
    """An empty feature group per layer, in layer-control order; the script fills them."""
    groups = {}
    for layer in layers:
        group = folium.FeatureGroup(name=layer.label(), show=layer.show)
        group.add_to(fmap)
        groups[layer.key] = group
    return groups


def finish(page: LivePage, fmap: folium.Map, *, kind: str,
           groups: Mapping[str, folium.FeatureGroup], config: Mapping[str, Any],
           bounds: Sequence[Sequence[float]] | None, basemap: BaseMap,
           collapsed: bool = False) -> str:
    """Layer control, the start call and the view; the rendered page, checked to load nothing
    from another host (only the base map's tiles may, when one is configured)."""
    folium.LayerControl(collapsed=collapsed).add_to(fmap)
    _Start(kind, groups, config).add_to(fmap)
    if bounds is not None:
        fmap.fit_bounds([list(bounds[0]), list(bounds[1])], padding=(12, 12))
    out: str = page.render()
    check_local(out, basemap)
    return out


def check_local(page_html: str, basemap: BaseMap) -> None:
    """ValueError when the page would load a script or stylesheet from another host, or, with
    no external base map, names another host at all."""
    foreign = [u for u in _ASSET_REF.findall(page_html) if not u.startswith(("/", "data:"))
               or u.startswith("//")]
    if not basemap.external:
        foreign += _ANY_HOST.findall(page_html)
    if foreign:
        raise ValueError(f"the map page would load from another host: {foreign[:5]}")


def bounds_of(positions: Iterable[Sequence[float]]) -> list[list[float]] | None:
    """[[south, west], [north, east]] of (lon, lat) positions; None when there are none."""
    west = south = float("inf")
    east = north = float("-inf")
    for lon, lat, *_ in positions:
        west, east = min(west, lon), max(east, lon)
        south, north = min(south, lat), max(north, lat)
    if west == float("inf"):
        return None
    return [[south, west], [north, east]]


def geometry_positions(geometry: Mapping[str, Any] | None) -> Iterable[Sequence[float]]:
    """Every position of a GeoJSON geometry, whatever its type."""
    if not geometry:
        return
    if geometry.get("type") == "GeometryCollection":
        for part in geometry.get("geometries") or ():
            yield from geometry_positions(part)
        return
    stack = [geometry.get("coordinates") or []]
    while stack:
        coords = stack.pop()
        if coords and isinstance(coords[0], int | float):
            yield coords
        else:
            stack.extend(coords)


def nav_html(links: Sequence[tuple[str, str]]) -> str:
    """The header's links and the 退出 (logout) button."""
    items = "".join(f'<a class="gridmap-button" href="{html.escape(href)}">{html.escape(text)}'
                    "</a>" for href, text in links)
    return (f'<nav class="gridmap-nav">{items}<form method="post" action="/logout">'
            '<button type="submit" class="gridmap-button">退出</button></form></nav>')
