-- One page of the active 网格 as GeoJSON Features built by PostGIS, plus the number of all
-- matches. One statement per page: the count is taken over a CTE of ids only (so a page past
-- the end still knows it), and geometries are encoded for the page alone. NULL filters are
-- ignored; every request value arrives as a bound parameter.
WITH matched AS (
    SELECT gc.id
    FROM grid_cell gc
    JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active
    WHERE (CAST(:feature_id AS bigint) IS NULL OR gc.id = CAST(:feature_id AS bigint))
      AND (CAST(:bbox_minx AS float8) IS NULL
           OR (gc.geom && ST_MakeEnvelope(:bbox_minx, :bbox_miny, :bbox_maxx, :bbox_maxy, 4326)
               AND ST_Intersects(gc.geom, ST_MakeEnvelope(:bbox_minx, :bbox_miny,
                                                          :bbox_maxx, :bbox_maxy, 4326))))
      AND (CAST(:code AS text) IS NULL OR gc.code = CAST(:code AS text))
      AND (CAST(:name AS text) IS NULL OR gc.name = CAST(:name AS text))
      AND (CAST(:parent_code AS text) IS NULL
           OR gc.community_code = CAST(:parent_code AS text))
      AND (CAST(:grid_type AS text) IS NULL OR gc.grid_type = CAST(:grid_type AS text))
      -- A grid's 街道 is its 社区's parent: asked through the active 社区, not the code digits.
      AND (CAST(:street_code AS text) IS NULL OR gc.community_code IN (
           SELECT c.code
           FROM area c
           JOIN boundary_generation cg ON cg.id = c.generation_id AND cg.is_active
           WHERE c.level = 'community' AND c.parent_code = CAST(:street_code AS text)))
),
page AS (
    SELECT id FROM matched ORDER BY id LIMIT :limit OFFSET :offset
)
SELECT
    (SELECT count(*) FROM matched) AS number_matched,
    coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'id', gc.id,
        'geometry', ST_AsGeoJSON(gc.geom, :precision)::json,
        'properties', json_build_object(
            'code', gc.code, 'name', gc.name, 'grid_type', gc.grid_type,
            'parent_code', gc.community_code, 'parent_name', com.name,
            'street_code', com.parent_code, 'street_name', st.name,
            'households', gc.households, 'approximate', gc.approximate,
            'generation_id', gc.generation_id)
    ) ORDER BY gc.id), '[]'::json)::text AS features
FROM page
JOIN grid_cell gc ON gc.id = page.id
LEFT JOIN LATERAL (
    SELECT c.name, c.parent_code
    FROM area c
    JOIN boundary_generation cg ON cg.id = c.generation_id AND cg.is_active
    WHERE c.level = 'community' AND c.code = gc.community_code
) com ON true
LEFT JOIN LATERAL (
    SELECT s.name
    FROM area s
    JOIN boundary_generation sg ON sg.id = s.generation_id AND sg.is_active
    WHERE s.level = 'street' AND s.code = com.parent_code
) st ON true
