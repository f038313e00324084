-- One keyset page (by id) of the active 社区 an export holds, geometry as WKB in WGS84.
-- Reach (see geo.exports.reach): a 社区 is in reach when it is the caller's 社区, lies in their
-- 街道, or holds one of their grids. NULL filters are ignored; every request value arrives as
-- a bound parameter.
SELECT a.id, a.code, a.name, a.short_name,
       a.parent_code AS street_code, p.name AS street_name,
       a.households, a.approximate, a.generation_id,
       ST_AsBinary(a.geom) AS geom
FROM area a
JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
LEFT JOIN LATERAL (
    SELECT s.name
    FROM area s
    JOIN boundary_generation sg ON sg.id = s.generation_id AND sg.is_active
    WHERE s.level = 'street' AND s.code = a.parent_code
) p ON true
WHERE a.level = 'community'
  AND (:reach_all
       OR a.code = ANY(CAST(:reach_communities AS text[]))
       OR a.parent_code = ANY(CAST(:reach_streets AS text[]))
       OR a.code = ANY(CAST(:reach_up_communities AS text[])))
  AND (CAST(:community_code AS text) IS NULL OR a.code = CAST(:community_code AS text))
  AND (CAST(:street_code AS text) IS NULL OR a.parent_code = CAST(:street_code AS text))
  AND (CAST(:after AS bigint) IS NULL OR a.id > CAST(:after AS bigint))
ORDER BY a.id
LIMIT :limit
