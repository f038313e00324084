-- Hotspot measures of the levels asked for (:levels, any of grid | community | street | project)
-- in one pass over the caller's cases (the scope is applied inside, so a case outside it is
-- never counted): one row per feature, with its `level`, ordered by level and code.
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
    -- A case once for the area levels, and once per project it is attached to (any method);
    -- each row carries the keys of its own kind only, so the grouping sets below keep apart.
    SELECT CAST(NULL AS text) AS project_code, k.grid_code, k.community_code, k.street_code,
           k.id, k.period, k.is_open, k.is_repeat, k.is_collective
    FROM cases k
    WHERE CAST(:levels AS text[]) && ARRAY['grid', 'community', 'street']
    UNION ALL
    SELECT p.code, NULL, NULL, NULL, k.id, k.period, k.is_open, k.is_repeat, k.is_collective
    FROM cases k
    JOIN case_project cp ON cp.case_id = k.id
    JOIN project p ON p.id = cp.project_id
    WHERE 'project' = ANY(CAST(:levels AS text[]))
), grouped AS (
    -- One pass, every level at once (a set per level; rows without that level's key fall
    -- into its NULL group, which is dropped).
    SELECT CASE WHEN GROUPING(project_code) = 0 THEN 'project'
                WHEN GROUPING(grid_code) = 0 THEN 'grid'
                WHEN GROUPING(community_code) = 0 THEN 'community'
                ELSE 'street' END AS level,
           coalesce(project_code, grid_code, community_code, street_code) AS key,
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
    GROUP BY GROUPING SETS ((project_code), (grid_code), (community_code), (street_code))
), measures AS (
    SELECT * FROM grouped
    WHERE key IS NOT NULL AND level = ANY(CAST(:levels AS text[]))
), sub_keyed AS (
    SELECT CAST(NULL AS text) AS project_code, c.grid_code, c.community_code, c.street_code,
           s.persons_count
    FROM submission s
    JOIN petition_case c ON c.id = s.case_id
    JOIN category cat ON cat.code = c.category_code
    WHERE CAST(:levels AS text[]) && ARRAY['grid', 'community', 'street']
      AND {{case_scope}}
      AND s.received_at >= CAST(:date_from AS timestamptz)
      AND s.received_at < CAST(:date_to AS timestamptz)
      AND (CAST(:category AS text[]) IS NULL
           OR c.category_code = ANY(CAST(:category AS text[])))
      AND (CAST(:status AS text[]) IS NULL OR c.status = ANY(CAST(:status AS text[])))
    UNION ALL
    SELECT p.code, NULL, NULL, NULL, s.persons_count
    FROM submission s
    JOIN petition_case c ON c.id = s.case_id
    JOIN category cat ON cat.code = c.category_code
    JOIN case_project cp ON cp.case_id = c.id
    JOIN project p ON p.id = cp.project_id
    WHERE 'project' = ANY(CAST(:levels AS text[]))
      AND {{case_scope}}
      AND s.received_at >= CAST(:date_from AS timestamptz)
      AND s.received_at < CAST(:date_to AS timestamptz)
      AND (CAST(:category AS text[]) IS NULL
           OR c.category_code = ANY(CAST(:category AS text[])))
      AND (CAST(:status AS text[]) IS NULL OR c.status = ANY(CAST(:status AS text[])))
), subs AS (
    SELECT x.level, x.key, x.submissions, x.persons
    FROM (
        SELECT CASE WHEN GROUPING(project_code) = 0 THEN 'project'
                    WHEN GROUPING(grid_code) = 0 THEN 'grid'
                    WHEN GROUPING(community_code) = 0 THEN 'community'
                    ELSE 'street' END AS level,
               coalesce(project_code, grid_code, community_code, street_code) AS key,
               count(*) AS submissions, sum(persons_count) AS persons
        FROM sub_keyed
        GROUP BY GROUPING SETS ((project_code), (grid_code), (community_code), (street_code))
    ) x
    WHERE x.key IS NOT NULL AND x.level = ANY(CAST(:levels AS text[]))
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
    SELECT 'grid' AS level, rc.code, rc.name, rc.households, rc.geom, rc.generation_id
    FROM reach_cells rc
    WHERE 'grid' = ANY(CAST(:levels AS text[]))
    UNION ALL
    SELECT CAST(a.level AS text), a.code, a.name,
           coalesce(a.households, (SELECT CAST(sum(ac.households) AS integer)
                                   FROM active_cells ac
                                   WHERE ac.community_code = a.code
                                      OR left(ac.community_code, 9) || '000' = a.code)),
           a.geom, a.generation_id
    FROM area a
    JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
    WHERE a.level IN ('community', 'street')
      AND a.level = ANY(CAST(:levels AS text[]))
      AND EXISTS (SELECT 1 FROM reach_cells rc
                  WHERE rc.community_code = a.code
                     OR left(rc.community_code, 9) || '000' = a.code)
    UNION ALL
    SELECT 'project', p.code, p.name, p.households, p.geom, NULL
    FROM project p
    WHERE 'project' = ANY(CAST(:levels AS text[]))
      AND (:scope_all OR CAST(:scope_unit AS integer) IS NOT NULL
           OR EXISTS (SELECT 1 FROM reach_cells rc WHERE ST_Intersects(rc.geom, p.geom)))
)
SELECT u.level, u.code, u.name, u.households, u.generation_id,
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
LEFT JOIN measures m ON m.level = u.level AND m.key = u.code
LEFT JOIN subs s ON s.level = u.level AND s.key = u.code
ORDER BY u.level, u.code
