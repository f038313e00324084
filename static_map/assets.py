"""Where the map pages' static files live on disk and the URLs the pages load them from."""

from __future__ import annotations

from pathlib import Path

import xstatic.pkg.jquery
import xstatic.pkg.leaflet

# Petition-office networks often have no internet: Leaflet and jQuery are served by gridmap
# itself, straight out of the installed xstatic wheels, so nothing third-party is committed here.
VENDOR_URL = "/static/vendor"
VENDOR_MOUNTS: dict[str, Path] = {
    "leaflet": Path(xstatic.pkg.leaflet.BASE_DIR),
    "jquery": Path(xstatic.pkg.jquery.BASE_DIR),
}
# (mount, file) pairs, in load order: jQuery must be there before folium's popups run.
_VENDOR_JS = (("leaflet", "leaflet.js"), ("jquery", "jquery.min.js"))
_VENDOR_CSS = (("leaflet", "leaflet.css"),)

# gridmap's own small stylesheet (title, legend, layer colours of the page chrome).
OWN_URL = "/static/gridmap"
OWN_ASSETS_DIR = Path(__file__).with_name("assets")


def vendor_js(base: str = VENDOR_URL) -> list[tuple[str, str]]:
    """folium-style (name, url) list of the vendored scripts under `base`."""
    root = base.rstrip("/")
    return [(mount, f"{root}/{mount}/{name}") for mount, name in _VENDOR_JS]


def vendor_css(base: str = VENDOR_URL) -> list[tuple[str, str]]:
    """folium-style (name, url) list of the vendored stylesheets under `base`."""
    root = base.rstrip("/")
    return [(f"{mount}_css", f"{root}/{mount}/{name}") for mount, name in _VENDOR_CSS]


def static_mounts(vendor_base: str = VENDOR_URL, own_base: str = OWN_URL) -> dict[str, Path]:
    """URL prefix → directory for every static mount the map pages need (for StaticFiles)."""
    vendor_root = vendor_base.rstrip("/")
    mounts = {f"{vendor_root}/{mount}": path for mount, path in VENDOR_MOUNTS.items()}
    mounts[own_base.rstrip("/")] = OWN_ASSETS_DIR
    return mounts
