"""Exports of cases and boundaries as GeoJSON, CSV and GeoPackage: scoped, masked, audited,
produced page by page (`plan` ties the pieces together; `sources` lists the collections)."""
