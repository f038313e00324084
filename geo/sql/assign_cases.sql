-- Assign located cases to the active grid layer, set-based, keeping the old assignment as
-- history. Rule: the grid whose closed area covers the point (lowest code on shared edges);
-- else the nearest grid if it is within :near_m metres (near_boundary); else out_of_area.
-- The grid's people are those on duty on the day the case was received.
-- :ids NULL means every located case (gridmap cases reassign).
WITH targets AS (
    SELECT c.id, c.location, (c.received_at AT TIME ZONE 'Asia/Shanghai')::date AS day
    FROM petition_case c
    WHERE c.location IS NOT NULL
      AND (CAST(:ids AS bigint[]) IS NULL OR c.id = ANY(CAST(:ids AS bigint[])))
), active_cells AS (
    SELECT gc.id, gc.code, gc.generation_id, gc.community_code, gc.geom
    FROM grid_cell gc
    JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active AND g.level = 'grid'
), inside AS (
    SELECT DISTINCT ON (t.id) t.id, ac.code, ac.generation_id, ac.community_code
    FROM targets t
    JOIN grid_cell_part p ON ST_Covers(p.geom, t.location)
    JOIN active_cells ac ON ac.id = p.grid_cell_id
    ORDER BY t.id, ac.code
), outside AS (
    -- Nearest by true distance among the few nearest by index (degrees are not isotropic).
    SELECT t.id, n.code, n.generation_id, n.community_code, n.dist
    FROM targets t
    CROSS JOIN LATERAL (
        SELECT k.code, k.generation_id, k.community_code,
               ST_Distance(k.geom::geography, t.location::geography) AS dist
        FROM (SELECT ac.* FROM active_cells ac ORDER BY ac.geom <-> t.location LIMIT 5) k
        ORDER BY 4, k.code
        LIMIT 1
    ) n
    WHERE NOT EXISTS (SELECT 1 FROM inside i WHERE i.id = t.id)
), chosen AS (
    SELECT id, code, generation_id, community_code, 'inside' AS flag, 0.0::float8 AS dist
    FROM inside
    UNION ALL
    SELECT id,
           CASE WHEN dist <= :near_m THEN code END,
           CASE WHEN dist <= :near_m THEN generation_id END,
           CASE WHEN dist <= :near_m THEN community_code END,
           CASE WHEN dist <= :near_m THEN 'near_boundary' ELSE 'out_of_area' END,
           dist
    FROM outside
), placed AS (
    SELECT ch.*, t.day,
           (SELECT a.parent_code FROM area a
            JOIN boundary_generation ga ON ga.id = a.generation_id AND ga.is_active
            WHERE a.level = 'community' AND a.code = ch.community_code) AS street_code,
           (SELECT ga.staff_id FROM grid_assignment ga
            WHERE ga.grid_code = ch.code AND ga.role = 'grid_worker' AND ga.start_date <= t.day
              AND (ga.end_date IS NULL OR ga.end_date >= t.day)
            ORDER BY ga.start_date DESC LIMIT 1) AS worker_id,
           (SELECT ga.staff_id FROM grid_assignment ga
            WHERE ga.grid_code = ch.code AND ga.role = 'grid_leader' AND ga.start_date <= t.day
              AND (ga.end_date IS NULL OR ga.end_date >= t.day)
            ORDER BY ga.start_date DESC LIMIT 1) AS leader_id,
           (SELECT ga.unit_id FROM grid_assignment ga
            WHERE ga.grid_code = ch.code AND ga.role = 'responsible_unit'
              AND ga.start_date <= t.day AND (ga.end_date IS NULL OR ga.end_date >= t.day)
            ORDER BY ga.start_date DESC LIMIT 1) AS unit_id
    FROM chosen ch JOIN targets t ON t.id = ch.id
), superseded AS (
    UPDATE case_assignment h SET superseded_at = now()
    FROM placed p
    WHERE h.case_id = p.id AND h.superseded_at IS NULL
    RETURNING h.id
), history AS (
    INSERT INTO case_assignment (case_id, flag, grid_code, grid_generation_id, community_code,
                                 street_code, grid_worker_id, grid_leader_id,
                                 responsible_unit_id, distance_m)
    SELECT id, flag, code, generation_id, community_code, street_code, worker_id, leader_id,
           unit_id, dist
    FROM placed
    RETURNING case_id
)
UPDATE petition_case c
SET assignment_flag = p.flag, grid_code = p.code, grid_generation_id = p.generation_id,
    community_code = p.community_code, street_code = p.street_code,
    grid_worker_id = p.worker_id, grid_leader_id = p.leader_id,
    -- Once accepted, the responsible unit is the 四定 one: re-placing the case keeps it.
    responsible_unit_id = CASE WHEN c.accepted_at IS NULL THEN p.unit_id
                               ELSE c.responsible_unit_id END,
    updated_at = now()
FROM placed p
WHERE c.id = p.id
RETURNING c.id, c.assignment_flag, p.dist
