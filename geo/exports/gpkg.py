"""GeoPackage export: written to a file page by page (pyogrio appends each page to the layer),
then read back from disk in chunks and deleted — the whole dataset is never in memory.

One layer named after the collection, SRS EPSG:4326, field types from the collection's column
declaration (so a page of nulls cannot retype a field). A GCJ-02 / BD-09 export keeps the 4326
label (GIS tools then draw it straight over those base maps, which is the point) and says
"shifted" in the layer description, in each feature's `crs` field and in the file name.
Written as GeoPackage 1.2, which GDAL 3.x and QGIS read without warnings.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.exports.geometry import output_geometries
from geo.exports.sources import ExportSource, Page

CHUNK = 1 << 16
_DTYPES = {"string": object, "integer": "Int64", "number": "Float64", "boolean": "boolean"}


def _frame(source: ExportSource, page: Page | None, out_crs: str) -> gpd.GeoDataFrame:
    rows = page.rows if page is not None else []
    data: dict[str, Any] = {
        c.name: pd.array([r[c.name] for r in rows], dtype=_DTYPES[c.type])
        for c in source.columns}
    data["crs"] = pd.array([out_crs] * len(rows), dtype=object)
    geoms: Any = output_geometries(page.geoms, out_crs) if page is not None else []
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"))


def _description(source: ExportSource, out_crs: str) -> str:
    what = f"{source.title_zh} ({source.id}), gridmap export"
    if out_crs == "wgs84":
        return f"{what}; WGS84 lon/lat"
    return (f"{what}; coordinates shifted to {out_crs.upper()} for Chinese base maps — "
            "not true WGS84 although labelled EPSG:4326")


def write_gpkg(path: Path, source: ExportSource, pages: Iterable[Page], out_crs: str) -> int:
    """Write the pages to a new GeoPackage at `path`, one append per page; the feature count."""
    common: dict[str, Any] = {"layer": source.id, "driver": "GPKG",
                              "geometry_type": source.geometry_type}
    # The empty first write creates the layer (so an empty export is still a valid file).
    pyogrio.write_dataframe(_frame(source, None, out_crs), path, **common,
                            dataset_options={"VERSION": "1.2"},
                            layer_options={"DESCRIPTION": _description(source, out_crs),
                                           "IDENTIFIER": source.id})
    written = 0
    for page in pages:
        if page.rows:
            pyogrio.write_dataframe(_frame(source, page, out_crs), path, append=True, **common)
            written += len(page.rows)
    return written


def spool_gpkg(source: ExportSource, pages: Iterable[Page], out_crs: str
               ) -> tuple[int, Iterator[bytes]]:
    """Write the GeoPackage to a private temporary directory, then hand back its size and an
    iterator of its bytes. The directory is deleted before the first byte is read: the open
    handle keeps the data until the iterator ends (or is dropped), so nothing is left behind
    even when a download is abandoned."""
    directory = Path(tempfile.mkdtemp(prefix="gridmap-export-"))
    try:
        path = directory / f"{source.id}.gpkg"
        write_gpkg(path, source, pages, out_crs)
        handle = path.open("rb")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    size = os.fstat(handle.fileno()).st_size

    def chunks() -> Iterator[bytes]:
        with handle:
            while block := handle.read(CHUNK):
                yield block

    return size, chunks()
