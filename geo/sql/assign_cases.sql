-- Assign located cases to the active grid layer, set-based, keeping the old assignment as
-- history. Rule: the grid whose closed area covers the point (lowest code on shared edges);
-- else the nearest grid if it is within :near_m metres (near_boundary); else out_of_area.
-- The grid's people are those on duty on the day the case was received.
-- :ids NULL means every located case (gridmap cases reassign).
-- Run assign_cases_settings.sql first in the same transaction (no JIT, hash joins in memory).
--
-- Speed (all cases): the join is driven from the few hundred cells, each probing the GiST index
-- on petition_case(location), so ST_Covers sees the same cell as first argument for all its
-- candidate points and PostGIS prepares it once (its point-in-polygon cache); driving from the
-- points instead probes the cell index once per case and re-reads a different polygon each time.
-- Shared edges are settled per cell, not by sorting every row: a point is kept only if no
-- lower-code cell whose box meets this cell's box covers it (`lower_cells`, also one prepared
-- geometry per cell). Cases in no cell are the ones the hash join to `inside` leaves unmatched;
-- only those run the nearest-cell subquery.
WITH targets AS NOT MATERIALIZED (
    SELECT c.id, c.location, c.received_at
    FROM petition_case c
    WHERE c.location IS NOT NULL
      AND (CAST(:ids AS bigint[]) IS NULL OR c.id = ANY(CAST(:ids AS bigint[])))
), active_cells AS NOT MATERIALIZED (
    SELECT gc.id, gc.code, gc.generation_id, gc.community_code, gc.geom
    FROM grid_cell gc
    JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active AND g.level = 'grid'
), lower_cells AS NOT MATERIALIZED (
    -- Per cell that some case may fall in: its lower-code neighbours (by box), as one
    -- MultiPolygon (ST_Dump: a collection of MultiPolygons would not be one).
    SELECT hi.id, ST_Collect(d.geom) AS geom
    FROM grid_cell hi
    JOIN grid_cell lo ON lo.generation_id = hi.generation_id AND lo.code < hi.code
                     AND lo.geom && hi.geom
    CROSS JOIN LATERAL ST_Dump(lo.geom) d
    WHERE EXISTS (SELECT 1 FROM targets t WHERE hi.geom ~ t.location)
    GROUP BY hi.id
), inside AS NOT MATERIALIZED (
    SELECT t.id, ac.code, ac.generation_id, ac.community_code
    FROM active_cells ac
    LEFT JOIN lower_cells lc ON lc.id = ac.id
    JOIN targets t ON ST_Covers(ac.geom, t.location)
    WHERE lc.geom IS NULL OR NOT ST_Covers(lc.geom, t.location)
), near AS NOT MATERIALIZED (
    -- A case in no cell: the nearest cell by true distance among the few nearest by index
    -- (degrees are not isotropic). The subquery in CASE runs only for those cases.
    SELECT t.id, t.received_at, t.location, i.code, i.generation_id, i.community_code,
           CASE WHEN i.id IS NULL THEN (
               SELECT k.id
               FROM (SELECT ac.id, ac.code, ac.geom FROM active_cells ac
                     ORDER BY ac.geom <-> t.location LIMIT 5) k
               ORDER BY ST_Distance(k.geom::geography, t.location::geography), k.code
               LIMIT 1) END AS near_id
    FROM targets t
    LEFT JOIN inside i ON i.id = t.id
), chosen AS (
    SELECT n.id, n.received_at,
           CASE WHEN n.code IS NOT NULL THEN n.code WHEN d.dist <= :near_m THEN nc.code END
               AS code,
           CASE WHEN n.code IS NOT NULL THEN n.generation_id
                WHEN d.dist <= :near_m THEN nc.generation_id END AS generation_id,
           CASE WHEN n.code IS NOT NULL THEN n.community_code
                WHEN d.dist <= :near_m THEN nc.community_code END AS community_code,
           CASE WHEN n.code IS NOT NULL THEN 'inside'
                WHEN d.dist <= :near_m THEN 'near_boundary' ELSE 'out_of_area' END AS flag,
           coalesce(d.dist, 0.0) AS dist
    FROM near n
    LEFT JOIN grid_cell nc ON nc.id = n.near_id
    CROSS JOIN LATERAL (
        SELECT ST_Distance(nc.geom::geography, n.location::geography) AS dist) d
    -- No active grid layer at all: the case is left as it is.
    WHERE n.code IS NOT NULL OR nc.id IS NOT NULL
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
    FROM chosen ch
    CROSS JOIN LATERAL (SELECT (ch.received_at AT TIME ZONE 'Asia/Shanghai')::date AS day) t
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
