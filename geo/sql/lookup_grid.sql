-- The active grid cell covering a WGS84 point, with its 社区 and 街道.
-- Edge rule: a point on a shared edge or corner is covered (ST_Covers, boundary included) by
-- every cell that touches it; the one with the lowest grid code wins, always.
SELECT gc.code AS grid_code,
       gc.name AS grid_name,
       gc.grid_type,
       gc.generation_id,
       gc.approximate,
       c.code AS community_code,
       c.name AS community_name,
       s.code AS street_code,
       s.name AS street_name
FROM grid_cell_part p
JOIN grid_cell gc ON gc.id = p.grid_cell_id
JOIN boundary_generation g ON g.id = gc.generation_id AND g.level = 'grid' AND g.is_active
LEFT JOIN LATERAL (
    SELECT a.code, a.name, a.parent_code
    FROM area a JOIN boundary_generation ga ON ga.id = a.generation_id AND ga.is_active
    WHERE a.level = 'community' AND a.code = gc.community_code
) c ON true
LEFT JOIN LATERAL (
    SELECT a.code, a.name
    FROM area a JOIN boundary_generation ga ON ga.id = a.generation_id AND ga.is_active
    WHERE a.level = 'street' AND a.code = c.parent_code
) s ON true
WHERE ST_Covers(p.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
ORDER BY gc.code
LIMIT 1
