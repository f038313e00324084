-- Hotspot measures of one level (:level = grid | community | street | project) in one pass over
-- the caller's cases (the scope is applied inside, so a case outside it is never counted).
--   cases (案次): cases received in [:date_from, :date_to) that pass the category/status filters;
--   open: of those, not in a terminal state; overdue: of those, with a running obligation
--   deadline (not a window) due before :today; repeat, collective: the intake flags;
--   trend: the case counts of the 6 periods of the same length before the window, oldest first
--   (period k = [from - k·L, to - k·L)); submissions (件次) and persons (人次): submissions
--   received in the window, of cases passing the same filters (a case may be older).
-- Features: the active grid cells / 社区 / 街道, or the projects, in the caller's reach; a case
-- attached to a project counts for it (case_project, any method).
WITH cases AS (
    SELECT c.id, c.grid_code, c.community_code, c.street_code, c.is_repeat, c.is_collective,
           CAST(ceil(extract(epoch FROM (CAST(:date_to AS timestamptz) - c.received_at))
                     / CAST(:period_s AS float8)) AS integer) - 1 AS period,
           c.status <> ALL(CAST(:terminal AS text[])) AS is_open
    FROM petition_case c
    JOIN category cat ON cat.code = c.category_code
    WHERE {{case_scope}}
      AND c.received_at >= CAST(:trail_from AS timestamptz)
      AND c.received_at < CAST(:date_to AS timestamptz)
      AND (CAST(:category AS text[]) IS NULL OR c.category_code = ANY(CAST(:category AS text[])))
      AND (CAST(:status AS text[]) IS NULL OR c.status = ANY(CAST(:status AS text[])))
), keyed AS (
    SELECT CASE CAST(:level AS text) WHEN 'grid' THEN k.grid_code
                                     WHEN 'community' THEN k.community_code
                                     ELSE k.street_code END AS key, k.*
    FROM cases k
    WHERE CAST(:level AS text) <> 'project'
    UNION ALL
    SELECT p.code, k.*
    FROM cases k
    JOIN case_project cp ON cp.case_id = k.id
    JOIN project p ON p.id = cp.project_id
    WHERE CAST(:level AS text) = 'project'
), measures AS (
    SELECT key,
           count(*) FILTER (WHERE period = 0) AS cases,
           count(*) FILTER (WHERE period = 0 AND is_open) AS open,
           -- CASE, so the deadline lookup runs only for the window's open cases.
           count(*) FILTER (WHERE CASE WHEN period = 0 AND is_open THEN EXISTS (
               SELECT 1 FROM case_deadline d
               WHERE d.case_id = keyed.id AND d.active
                 AND d.rule <> ALL(CAST(:window_rules AS text[]))
                 AND d.due_date < CAST(:today AS date)) ELSE false END) AS overdue,
           count(*) FILTER (WHERE period = 0 AND is_repeat) AS repeat,
           count(*) FILTER (WHERE period = 0 AND is_collective) AS collective,
           ARRAY[count(*) FILTER (WHERE period = 6), count(*) FILTER (WHERE period = 5),
                 count(*) FILTER (WHERE period = 4), count(*) FILTER (WHERE period = 3),
                 count(*) FILTER (WHERE period = 2), count(*) FILTER (WHERE period = 1)]
               AS trend
    FROM keyed
    WHERE key IS NOT NULL
    GROUP BY key
), subs AS (
    SELECT x.key, count(*) AS submissions, sum(x.persons_count) AS persons
    FROM (
        SELECT CASE CAST(:level AS text) WHEN 'grid' THEN c.grid_code
                                         WHEN 'community' THEN c.community_code
                                         ELSE c.street_code END AS key, s.persons_count
        FROM submission s
        JOIN petition_case c ON c.id = s.case_id
        JOIN category cat ON cat.code = c.category_code
        WHERE CAST(:level AS text) <> 'project'
          AND {{case_scope}}
          AND s.received_at >= CAST(:date_from AS timestamptz)
          AND s.received_at < CAST(:date_to AS timestamptz)
          AND (CAST(:category AS text[]) IS NULL
               OR c.category_code = ANY(CAST(:category AS text[])))
          AND (CAST(:status AS text[]) IS NULL OR c.status = ANY(CAST(:status AS text[])))
        UNION ALL
        SELECT p.code, s.persons_count
        FROM submission s
        JOIN petition_case c ON c.id = s.case_id
        JOIN category cat ON cat.code = c.category_code
        JOIN case_project cp ON cp.case_id = c.id
        JOIN project p ON p.id = cp.project_id
        WHERE CAST(:level AS text) = 'project'
          AND {{case_scope}}
          AND s.received_at >= CAST(:date_from AS timestamptz)
          AND s.received_at < CAST(:date_to AS timestamptz)
          AND (CAST(:category AS text[]) IS NULL
               OR c.category_code = ANY(CAST(:category AS text[])))
          AND (CAST(:status AS text[]) IS NULL OR c.status = ANY(CAST(:status AS text[])))
    ) x
    WHERE x.key IS NOT NULL
    GROUP BY x.key
), active_cells AS (
    SELECT gc.code, gc.name, gc.community_code, gc.households, gc.geom, gc.generation_id
    FROM grid_cell gc
    JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active AND g.level = 'grid'
), reach_cells AS (
    -- The cells of the caller's area: district-wide roles and units (their cases may lie
    -- anywhere) reach every cell; the others their grids, 社区 or 街道.
    SELECT ac.*
    FROM active_cells ac
    WHERE :scope_all OR CAST(:scope_unit AS integer) IS NOT NULL
       OR ac.code = ANY(CAST(:scope_grids AS text[]))
       OR ac.community_code = CAST(:scope_community AS text)
       OR left(ac.community_code, 9) || '000' = CAST(:scope_street AS text)
), units AS (
    SELECT rc.code, rc.name, rc.households, rc.geom, rc.generation_id
    FROM reach_cells rc
    WHERE CAST(:level AS text) = 'grid'
    UNION ALL
    SELECT a.code, a.name,
           coalesce(a.households, (SELECT CAST(sum(ac.households) AS integer)
                                   FROM active_cells ac
                                   WHERE ac.community_code = a.code
                                      OR left(ac.community_code, 9) || '000' = a.code)),
           a.geom, a.generation_id
    FROM area a
    JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
    WHERE CAST(:level AS text) IN ('community', 'street')
      AND a.level = CAST(:level AS text)
      AND EXISTS (SELECT 1 FROM reach_cells rc
                  WHERE rc.community_code = a.code
                     OR left(rc.community_code, 9) || '000' = a.code)
    UNION ALL
    SELECT p.code, p.name, p.households, p.geom, NULL
    FROM project p
    WHERE CAST(:level AS text) = 'project'
      AND (:scope_all OR CAST(:scope_unit AS integer) IS NOT NULL
           OR EXISTS (SELECT 1 FROM reach_cells rc WHERE ST_Intersects(rc.geom, p.geom)))
)
SELECT u.code, u.name, u.households, u.generation_id,
       coalesce(m.cases, 0) AS cases,
       coalesce(s.submissions, 0) AS submissions,
       coalesce(s.persons, 0) AS persons,
       coalesce(m.open, 0) AS open,
       coalesce(m.overdue, 0) AS overdue,
       coalesce(m.repeat, 0) AS repeat,
       coalesce(m.collective, 0) AS collective,
       coalesce(m.trend, ARRAY[0, 0, 0, 0, 0, 0]::bigint[]) AS trend,
       ST_AsGeoJSON(u.geom, 7) AS geometry
FROM units u
LEFT JOIN measures m ON m.key = u.code
LEFT JOIN subs s ON s.key = u.code
ORDER BY u.code
