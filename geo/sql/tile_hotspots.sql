-- One Mapbox Vector Tile of the stored hotspot layers (hotspot_stat; command-level readers
-- only, so no scope applies), layer :layer (see geo.tiles.mvt): `&&` on the stored lon/lat
-- against the tile's query box (the GiST index), the items' filters (`level=grid` for the Gi*
-- map), the tile's affine shift, EPSG:3857, simplified to one tile unit, clipped and encoded.
WITH features AS (
    SELECT h.id, h.level, h.code, h.name, h.cases, h.submissions, h.persons,
           h.per_1000_households, h.change, h.gi_class,
           ST_AsMVTGeom(
               ST_SimplifyPreserveTopology(
                   ST_Transform(ST_Affine(h.geom, :aff_a, :aff_b, :aff_d, :aff_e,
                                          :aff_xoff, :aff_yoff), 3857),
                   :tolerance),
               ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true) AS geom
    FROM hotspot_stat h
    WHERE h.geom && ST_MakeEnvelope(:q_minx, :q_miny, :q_maxx, :q_maxy, 4326)
      AND (CAST(:level AS text) IS NULL OR h.level = CAST(:level AS text))
      AND (CAST(:code AS text) IS NULL OR h.code = CAST(:code AS text))
      AND (CAST(:gi_class AS text) IS NULL OR h.gi_class = CAST(:gi_class AS text))
)
SELECT ST_AsMVT(features.*, :layer, :extent, 'geom', 'id') AS tile
FROM features
WHERE geom IS NOT NULL
