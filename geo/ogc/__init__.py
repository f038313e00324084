"""OGC API – Features core without the web framework: the collection registry, request
parameters as domain values, and one-statement pages of GeoJSON built by PostGIS."""
