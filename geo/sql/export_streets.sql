-- One keyset page (by id) of the active 街道 an export holds, geometry as WKB in WGS84.
-- Reach (see geo.exports.reach): a 街道 is in reach when it is the caller's 街道 or holds their
-- 社区 or grids. NULL filters are ignored; every request value arrives as a bound parameter.
SELECT a.id, a.code, a.name, a.short_name,
       a.parent_code AS district_code, p.name AS district_name,
       a.households, a.approximate, a.generation_id,
       ST_AsBinary(a.geom) AS geom
FROM area a
JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
LEFT JOIN LATERAL (
    SELECT d.name
    FROM area d
    JOIN boundary_generation dg ON dg.id = d.generation_id AND dg.is_active
    WHERE d.level = 'district' AND d.code = a.parent_code
) p ON true
WHERE a.level = 'street'
  AND (:reach_all
       OR a.code = ANY(CAST(:reach_streets AS text[]))
       OR a.code = ANY(CAST(:reach_up_streets AS text[])))
  AND (CAST(:street_code AS text) IS NULL OR a.code = CAST(:street_code AS text))
  AND (CAST(:after AS bigint) IS NULL OR a.id > CAST(:after AS bigint))
ORDER BY a.id
LIMIT :limit
