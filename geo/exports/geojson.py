"""GeoJSON export (RFC 7946), written as text chunks page by page: a large export is streamed,
never built whole in memory.

RFC 7946 coordinates are WGS84 lon/lat and the format has no `crs` member. GCJ-02 and BD-09
are not WGS84 and have no registered identifier, so a shifted export says so in foreign
members (`coordinate_system`, `crs_note`) and in every feature's `crs` property — and in the
file name. Polygon rings follow the RFC's right-hand rule (exterior counter-clockwise).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson
import shapely

from geo.exports.geometry import output_geometries
from geo.exports.sources import ExportSource, Page


def _head(source: ExportSource, out_crs: str, masked: bool) -> bytes:
    head: dict[str, Any] = {"type": "FeatureCollection", "name": source.id,
                            "title": source.title_zh}
    if source.personal:
        head["masked"] = masked
    if out_crs != "wgs84":
        head["coordinate_system"] = out_crs
        head["crs_note"] = (f"coordinates shifted to {out_crs} for Chinese base maps; not "
                            "WGS84, so not RFC 7946 compliant positions")
    return orjson.dumps(head)[:-1] + b', "features": ['


def _features(page: Page, out_crs: str) -> bytes:
    geoms = output_geometries(page.geoms, out_crs)
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    texts = shapely.to_geojson(geoms)
    parts = []
    for row, geometry in zip(page.rows, texts, strict=True):
        props = orjson.dumps({**row, "crs": out_crs})
        parts.append(b'{"type": "Feature", "id": ' + orjson.dumps(row["id"])
                     + b', "geometry": ' + (geometry.encode() if geometry else b"null")
                     + b', "properties": ' + props + b"}")
    return b",".join(parts)


def geojson_chunks(source: ExportSource, pages: Iterable[Page], out_crs: str, *,
                   masked: bool = True) -> Iterator[bytes]:
    """A FeatureCollection in UTF-8 chunks: the head, one chunk per page, the tail."""
    yield _head(source, out_crs, masked)
    first = True
    for page in pages:
        if not page.rows:
            continue
        yield (b"" if first else b",") + _features(page, out_crs)
        first = False
    yield b"]}\n"
