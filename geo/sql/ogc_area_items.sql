-- One page of the active 街道 or 社区 (:level) as GeoJSON Features built by PostGIS, plus the
-- number of all matches. One statement per page: the count is taken over a CTE of ids only (so
-- a page past the end still knows it), and geometries are encoded for the page alone. NULL
-- filters are ignored; every request value arrives as a bound parameter.
WITH matched AS (
    SELECT a.id
    FROM area a
    JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
    WHERE a.level = :level
      AND (CAST(:feature_id AS bigint) IS NULL OR a.id = CAST(:feature_id AS bigint))
      AND (CAST(:bbox_minx AS float8) IS NULL
           OR (a.geom && ST_MakeEnvelope(:bbox_minx, :bbox_miny, :bbox_maxx, :bbox_maxy, 4326)
               AND ST_Intersects(a.geom, ST_MakeEnvelope(:bbox_minx, :bbox_miny,
                                                         :bbox_maxx, :bbox_maxy, 4326))))
      AND (CAST(:code AS text) IS NULL OR a.code = CAST(:code AS text))
      AND (CAST(:name AS text) IS NULL OR a.name = CAST(:name AS text))
      AND (CAST(:parent_code AS text) IS NULL OR a.parent_code = CAST(:parent_code AS text))
),
page AS (
    SELECT id FROM matched ORDER BY id LIMIT :limit OFFSET :offset
)
SELECT
    (SELECT count(*) FROM matched) AS number_matched,
    coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'id', a.id,
        'geometry', ST_AsGeoJSON(a.geom, :precision)::json,
        'properties', json_build_object(
            'code', a.code, 'name', a.name, 'short_name', a.short_name,
            'parent_code', a.parent_code, 'parent_name', p.name,
            'households', a.households, 'approximate', a.approximate,
            'generation_id', a.generation_id)
    ) ORDER BY a.id), '[]'::json)::text AS features
FROM page
JOIN area a ON a.id = page.id
LEFT JOIN LATERAL (
    SELECT pa.name
    FROM area pa
    JOIN boundary_generation pg ON pg.id = pa.generation_id AND pg.is_active
    WHERE pa.code = a.parent_code
      AND pa.level = CASE a.level WHEN 'street' THEN 'district' ELSE 'street' END
) p ON true
