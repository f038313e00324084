-- One Mapbox Vector Tile of the active 网格, layer :layer (see geo.tiles.mvt): `&&` on the stored
-- lon/lat against the tile's query box (the GiST index), the tile's affine shift, EPSG:3857,
-- simplified to one tile unit, clipped and encoded by PostGIS.
WITH features AS (
    SELECT gc.id, gc.code, gc.name, gc.grid_type, gc.community_code AS parent_code,
           com.parent_code AS street_code, gc.households, gc.approximate,
           ST_AsMVTGeom(
               ST_SimplifyPreserveTopology(
                   ST_Transform(ST_Affine(gc.geom, :aff_a, :aff_b, :aff_d, :aff_e,
                                          :aff_xoff, :aff_yoff), 3857),
                   :tolerance),
               ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true) AS geom
    FROM grid_cell gc
    JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active
    LEFT JOIN LATERAL (
        SELECT c.parent_code
        FROM area c
        JOIN boundary_generation cg ON cg.id = c.generation_id AND cg.is_active
        WHERE c.level = 'community' AND c.code = gc.community_code
    ) com ON true
    WHERE gc.geom && ST_MakeEnvelope(:q_minx, :q_miny, :q_maxx, :q_maxy, 4326)
      AND (CAST(:code AS text) IS NULL OR gc.code = CAST(:code AS text))
      AND (CAST(:name AS text) IS NULL OR gc.name = CAST(:name AS text))
      AND (CAST(:parent_code AS text) IS NULL
           OR gc.community_code = CAST(:parent_code AS text))
      AND (CAST(:grid_type AS text) IS NULL OR gc.grid_type = CAST(:grid_type AS text))
      AND (CAST(:street_code AS text) IS NULL OR com.parent_code = CAST(:street_code AS text))
)
SELECT ST_AsMVT(features.*, :layer, :extent, 'geom', 'id') AS tile
FROM features
WHERE geom IS NOT NULL
