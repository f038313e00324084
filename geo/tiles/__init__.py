"""Mapbox Vector Tiles of the OGC collections: WebMercatorQuad tile math, the per-tile GCJ-02
shift, one-statement tiles built by PostGIS (ST_AsMVT), and the TileJSON / OGC API – Tiles
documents that describe them."""
