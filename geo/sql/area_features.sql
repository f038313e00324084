-- The active generation of one area level as a GeoJSON FeatureCollection, built by PostGIS.
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'id', a.code,
        'geometry', ST_AsGeoJSON(a.geom, :precision)::json,
        'properties', json_build_object(
            'code', a.code, 'name', a.name, 'short_name', a.short_name,
            'parent_code', a.parent_code, 'households', a.households,
            'approximate', a.approximate, 'generation_id', a.generation_id)
    ) ORDER BY a.code), '[]'::json)
) AS fc
FROM area a
JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
WHERE a.level = :level
