-- The active grid generation as a GeoJSON FeatureCollection, built by PostGIS.
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'id', gc.code,
        'geometry', ST_AsGeoJSON(gc.geom, :precision)::json,
        'properties', json_build_object(
            'code', gc.code, 'name', gc.name, 'parent_code', gc.community_code,
            'community_name', c.name, 'grid_type', gc.grid_type, 'households', gc.households,
            'approximate', gc.approximate, 'generation_id', gc.generation_id)
    ) ORDER BY gc.code), '[]'::json)
) AS fc
FROM grid_cell gc
JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active
LEFT JOIN LATERAL (
    SELECT a.name
    FROM area a JOIN boundary_generation ga ON ga.id = a.generation_id AND ga.is_active
    WHERE a.level = 'community' AND a.code = gc.community_code
) c ON true
