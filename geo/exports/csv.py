"""CSV export, written as text chunks page by page (streamed, never built whole in memory).

UTF-8 with a byte-order mark first, so Excel (zh-CN) opens the Chinese right. The geometry is
either `lon`,`lat` columns (`geometry=lonlat`, the default for point collections; for polygons
a point on the polygon's surface) or one `wkt` column (the default for polygon collections);
then a `crs` column saying which system the coordinates are in.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

import shapely

from geo.errors import InvalidInput
from geo.exports.geometry import PRECISION, label_points, output_geometries
from geo.exports.sources import ExportSource, Page

GEOMETRY_STYLES = ("lonlat", "wkt")


def geometry_style(source: ExportSource, style: str | None) -> str:
    """`lonlat` or `wkt` (default by the collection's geometry); InvalidInput("geometry")."""
    if style is None:
        return "lonlat" if source.geometry_type == "Point" else "wkt"
    if style not in GEOMETRY_STYLES:
        raise InvalidInput("geometry", f"geometry must be lonlat or wkt, not {style!r}")
    return style


def csv_header(source: ExportSource, style: str) -> list[str]:
    """The column names, geometry and crs columns last."""
    geometry = ["lon", "lat"] if style == "lonlat" else ["wkt"]
    return [c.name for c in source.columns] + geometry + ["crs"]


def _geometry_columns(page: Page, style: str, out_crs: str) -> list[dict[str, Any]]:
    if style == "wkt":
        texts = shapely.to_wkt(output_geometries(page.geoms, out_crs),
                               rounding_precision=PRECISION, trim=True)
        return [{"wkt": t} for t in texts]
    points = output_geometries(label_points(page.geoms), out_crs)
    xs, ys = shapely.get_x(points), shapely.get_y(points)
    return [{"lon": None, "lat": None} if p is None else {"lon": float(x), "lat": float(y)}
            for p, x, y in zip(points, xs, ys, strict=True)]


def csv_chunks(source: ExportSource, pages: Iterable[Page], out_crs: str,
               style: str) -> Iterator[str]:
    """CSV text in chunks: BOM and header first, then one chunk per page."""
    header = csv_header(source, style)
    buf = io.StringIO()
    buf.write("\ufeff")
    csv.DictWriter(buf, fieldnames=header).writeheader()
    yield buf.getvalue()
    for page in pages:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=header)
        for row, geometry in zip(page.rows, _geometry_columns(page, style, out_crs),
                                 strict=True):
            writer.writerow({**row, **geometry, "crs": out_crs})
        yield buf.getvalue()
