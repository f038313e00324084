-- Every gazetteer entry for the in-memory matcher. Lines (roads) and points come as WKB; areas
-- and polygons are represented by the point kept in properties->'point' (ST_PointOnSurface at
-- build time), so their large polygons never leave the database.
SELECT id, kind, name, normalized, aliases, community_code, street_code, number_from, number_to,
       properties,
       CASE WHEN GeometryType(geom) IN ('POINT', 'LINESTRING') THEN ST_AsBinary(geom) END AS wkb
FROM gazetteer_entry
ORDER BY id
