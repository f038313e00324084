-- One keyset page (by id) of the active 网格 an export holds, geometry as WKB in WGS84.
-- Reach (what the caller's role may export, see geo.exports.reach): a grid is in reach when it
-- is one of the caller's grids or lies in one of their 社区 or 街道. NULL filters are ignored;
-- every request value arrives as a bound parameter.
SELECT gc.id, gc.code, gc.name, gc.grid_type,
       gc.community_code, com.name AS community_name,
       com.parent_code AS street_code, st.name AS street_name,
       gc.households, gc.approximate, gc.generation_id,
       ST_AsBinary(gc.geom) AS geom
FROM grid_cell gc
JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active
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
WHERE (:reach_all
       OR gc.code = ANY(CAST(:reach_grids AS text[]))
       OR gc.community_code = ANY(CAST(:reach_communities AS text[]))
       OR com.parent_code = ANY(CAST(:reach_streets AS text[])))
  AND (CAST(:grid_code AS text) IS NULL OR gc.code = CAST(:grid_code AS text))
  AND (CAST(:community_code AS text) IS NULL
       OR gc.community_code = CAST(:community_code AS text))
  AND (CAST(:street_code AS text) IS NULL OR com.parent_code = CAST(:street_code AS text))
  AND (CAST(:after AS bigint) IS NULL OR gc.id > CAST(:after AS bigint))
ORDER BY gc.id
LIMIT :limit
