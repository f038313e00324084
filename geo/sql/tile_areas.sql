-- One Mapbox Vector Tile of the active 街道 or 社区 (:level), layer :layer (see geo.tiles.mvt):
-- `&&` on the stored lon/lat against the tile's query box (the GiST index), the tile's affine
-- shift, EPSG:3857, simplified to one tile unit, clipped and encoded by PostGIS.
WITH features AS (
    SELECT a.id, a.code, a.name, a.short_name, a.parent_code, a.households, a.approximate,
           ST_AsMVTGeom(
               ST_SimplifyPreserveTopology(
                   ST_Transform(ST_Affine(a.geom, :aff_a, :aff_b, :aff_d, :aff_e,
                                          :aff_xoff, :aff_yoff), 3857),
                   :tolerance),
               ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true) AS geom
    FROM area a
    JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
    WHERE a.level = :level
      AND a.geom && ST_MakeEnvelope(:q_minx, :q_miny, :q_maxx, :q_maxy, 4326)
      AND (CAST(:code AS text) IS NULL OR a.code = CAST(:code AS text))
      AND (CAST(:name AS text) IS NULL OR a.name = CAST(:name AS text))
      AND (CAST(:parent_code AS text) IS NULL OR a.parent_code = CAST(:parent_code AS text))
)
SELECT ST_AsMVT(features.*, :layer, :extent, 'geom', 'id') AS tile
FROM features
WHERE geom IS NOT NULL
