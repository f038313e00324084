-- Projects with their 社区 name and polygon (GeoJSON text), by code; NULL filters are ignored.
-- Projects are places, not cases: every signed-in role may read them.
SELECT p.id, p.code, p.name, p.project_type, p.households, p.phase, p.start_date, p.end_date,
       p.buffer_m, p.keywords, p.community_code, com.name AS community_name, p.approximate,
       p.source, p.properties, p.created_at, p.updated_at,
       ST_AsGeoJSON(p.geom, 7) AS geometry
FROM project p
LEFT JOIN LATERAL (
    SELECT a.name
    FROM area a JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
    WHERE a.level = 'community' AND a.code = p.community_code
) com ON true
WHERE (CAST(:id AS integer) IS NULL OR p.id = CAST(:id AS integer))
  AND (CAST(:project_type AS text) IS NULL OR p.project_type = CAST(:project_type AS text))
ORDER BY p.code
