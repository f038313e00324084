-- One Mapbox Vector Tile of the projects, layer :layer (see geo.tiles.mvt): `&&` on the stored
-- lon/lat against the tile's query box (the GiST index), the items' filters, the tile's affine
-- shift, EPSG:3857, simplified to one tile unit, clipped and encoded by PostGIS. The case
-- counts apply the caller's scope inside the query (the case_scope fragment), as the items do.
WITH features AS (
    SELECT p.id, p.code, p.name, p.project_type,
           CAST(:type_labels AS jsonb) ->> p.project_type AS type_label,
           p.households, p.phase, p.community_code, p.approximate,
           n.cases, n.open_cases,
           ST_AsMVTGeom(
               ST_SimplifyPreserveTopology(
                   ST_Transform(ST_Affine(p.geom, :aff_a, :aff_b, :aff_d, :aff_e,
                                          :aff_xoff, :aff_yoff), 3857),
                   :tolerance),
               ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true) AS geom
    FROM project p
    CROSS JOIN LATERAL (
        SELECT CAST(count(*) AS integer) AS cases,
               CAST(count(*) FILTER (WHERE c.status <> ALL(CAST(:terminal AS text[])))
                    AS integer) AS open_cases
        FROM case_project cp
        JOIN petition_case c ON c.id = cp.case_id
        JOIN category cat ON cat.code = c.category_code
        WHERE cp.project_id = p.id
          AND {{case_scope}}
    ) n
    WHERE p.geom && ST_MakeEnvelope(:q_minx, :q_miny, :q_maxx, :q_maxy, 4326)
      AND {{ogc_project_filters}}
)
SELECT ST_AsMVT(features.*, :layer, :extent, 'geom', 'id') AS tile
FROM features
WHERE geom IS NOT NULL
