-- What geo.exports.reach needs to turn a scope into boundary codes, in one round trip: the
-- caller's unit (does it exist, its area code and that area's active level), the active 社区
-- of the caller's grids, and the 街道 above every 社区 in reach.
WITH unit_area AS (
    SELECT u.area_code, a.level
    FROM unit u
    LEFT JOIN (area a JOIN boundary_generation ag ON ag.id = a.generation_id AND ag.is_active)
           ON a.code = u.area_code
    WHERE u.id = CAST(:unit_id AS integer)
),
grid_communities AS (
    SELECT DISTINCT gc.community_code AS code
    FROM grid_cell gc
    JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active
    WHERE gc.code = ANY(CAST(:grids AS text[]))
),
communities AS (
    SELECT code FROM grid_communities
    UNION SELECT CAST(:community AS text) WHERE CAST(:community AS text) IS NOT NULL
    UNION SELECT area_code FROM unit_area WHERE level = 'community'
)
SELECT
    EXISTS (SELECT 1 FROM unit_area) AS unit_exists,
    (SELECT area_code FROM unit_area LIMIT 1) AS unit_area_code,
    (SELECT level FROM unit_area LIMIT 1) AS unit_area_level,
    coalesce((SELECT array_agg(code ORDER BY code) FROM grid_communities),
             CAST('{}' AS text[])) AS grid_communities,
    coalesce((SELECT array_agg(DISTINCT a.parent_code ORDER BY a.parent_code)
              FROM area a
              JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
              WHERE a.level = 'community' AND a.parent_code IS NOT NULL
                AND a.code IN (SELECT code FROM communities)),
             CAST('{}' AS text[])) AS parent_streets
