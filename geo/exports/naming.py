"""Export file names that say what and when:
`gridmap_<collection>_<area>_<crs>_<masked|unmasked>_<YYYYmmdd-HHMM>.<ext>` (China time)."""

from __future__ import annotations

from datetime import datetime

from geo.access.scope import Scope
from geo.cases.schema import CHINA_TZ
from geo.exports.filters import ExportFilter

EXTENSIONS = {"csv": "csv", "geojson": "geojson", "gpkg": "gpkg"}


def area_label(scope: Scope, f: ExportFilter) -> str:
    """The area an export covers: the code filtered on, else the caller's own area (their
    grid, 社区 or 街道, `unit-<id>`), `district` for the district-wide roles."""
    code = f.grid_code or f.community_code or f.street_code
    if code:
        return code
    if scope.district_wide:
        return "district"
    own = (scope.grid_codes[0] if len(scope.grid_codes) == 1 else None) \
        or scope.community_code or scope.street_code
    if own:
        return own
    if scope.unit_id is not None:
        return f"unit-{scope.unit_id}"
    return scope.role.replace("_", "-")


def export_filename(collection: str, area: str, out_crs: str, unmasked: bool, fmt: str,
                    at: datetime) -> str:
    """The download's file name; `at` is shown in China time."""
    stamp = at.astimezone(CHINA_TZ).strftime("%Y%m%d-%H%M")
    return (f"gridmap_{collection}_{area}_{out_crs}_{'unmasked' if unmasked else 'masked'}_"
            f"{stamp}.{EXTENSIONS[fmt]}")
