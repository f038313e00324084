-- 三率 and the workflow counts of one area and window, over the caller's scope, in one statement
-- (rules and the window of each number: geo.workflow.rates). One row.
--   sc       every case of the area the caller may see (whenever received)
--   cohort   the cases of sc received in the window (China days), less those merged into
--            another (a duplicate is no 案次 of its own): counts, overdue, 督办, 首接首办
--   settled  obligation limits met, or fallen due unmet, as of today; a limit stopped without
--            being met (objection, extension, merge, reopen) is neither met nor missed. Each
--            settles on the day it was met when met on time, else on its due date: the day it
--            falls into a window's denominator.
WITH sc AS (
    SELECT c.id, (c.received_at AT TIME ZONE 'Asia/Shanghai')::date AS received_day,
           c.status, c.is_repeat, c.is_collective, c.routed_unit_id, c.first_unit_id,
           c.first_handler, c.evaluation,
           CASE WHEN c.closed_at <= :now
                THEN (c.closed_at AT TIME ZONE 'Asia/Shanghai')::date END AS closed_day
    FROM petition_case c
    JOIN category cat ON cat.code = c.category_code
    WHERE {{case_scope}}
      AND (CAST(:grid_code AS text) IS NULL OR c.grid_code = CAST(:grid_code AS text))
      AND (CAST(:community_code AS text) IS NULL
           OR c.community_code = CAST(:community_code AS text))
      AND (CAST(:street_code AS text) IS NULL OR c.street_code = CAST(:street_code AS text))
      AND (CAST(:unit_id AS integer) IS NULL
           OR c.routed_unit_id = CAST(:unit_id AS integer)
           OR c.responsible_unit_id = CAST(:unit_id AS integer)
           OR c.first_unit_id = CAST(:unit_id AS integer))
),
cohort AS (
    SELECT * FROM sc WHERE received_day BETWEEN :date_from AND :date_to AND status <> 'merged'
),
settled AS (
    SELECT d.rule, m.on_time,
           CASE WHEN m.on_time THEN m.met_day ELSE d.due_date END AS settle_day
    FROM case_deadline d
    JOIN sc ON sc.id = d.case_id
    CROSS JOIN LATERAL (
        SELECT CASE WHEN d.met_at <= :now
                    THEN (d.met_at AT TIME ZONE 'Asia/Shanghai')::date END AS met_day) md
    CROSS JOIN LATERAL (
        SELECT md.met_day, COALESCE(md.met_day <= d.due_date, false) AS on_time) m
    WHERE d.rule IN ('acceptance_notice', 'handling', 'extension', 'local_close')
      AND (d.active OR d.met_at IS NOT NULL)
      AND (m.met_day IS NOT NULL OR d.due_date < :today)
      -- a limit settles between its start and its due date: only those can reach the window
      AND d.due_date >= :date_from AND d.start_date <= :date_to
),
rates AS (
    SELECT count(*) FILTER (WHERE rule = 'acceptance_notice') AS acceptance_den,
           count(*) FILTER (WHERE rule = 'acceptance_notice' AND on_time) AS acceptance_num,
           count(*) FILTER (WHERE rule IN ('handling', 'extension')) AS on_time_den,
           count(*) FILTER (WHERE rule IN ('handling', 'extension') AND on_time) AS on_time_num,
           count(*) FILTER (WHERE rule = 'local_close') AS local_den,
           count(*) FILTER (WHERE rule = 'local_close' AND on_time) AS local_num
    FROM settled
    WHERE settle_day BETWEEN :date_from AND :date_to
),
satisfaction AS (
    SELECT count(*) AS closed,
           count(*) FILTER (WHERE evaluation = 'satisfied') AS satisfied,
           count(*) FILTER (WHERE evaluation = 'basically_satisfied') AS basically_satisfied,
           count(*) FILTER (WHERE evaluation = 'unsatisfied') AS unsatisfied,
           count(*) FILTER (WHERE evaluation = 'not_evaluated') AS not_evaluated,
           count(*) FILTER (WHERE evaluation IS NULL) AS unrecorded
    FROM sc
    WHERE closed_day BETWEEN :date_from AND :date_to
),
counts AS (
    SELECT count(*) AS cases,
           count(*) FILTER (WHERE is_repeat) AS repeat,
           count(*) FILTER (WHERE is_collective) AS collective,
           count(*) FILTER (WHERE first_unit_id IS NOT NULL) AS first_routed,
           count(*) FILTER (WHERE first_unit_id IS NOT NULL AND first_handler IS NULL
                              AND status = 'assigned'
                              AND routed_unit_id = first_unit_id) AS first_pending,
           count(*) FILTER (WHERE first_unit_id IS NOT NULL
                              AND first_handler IS NOT NULL) AS first_handled,
           count(*) FILTER (WHERE routed_unit_id IS DISTINCT FROM first_unit_id
                              AND first_unit_id IS NOT NULL) AS transferred,
           count(*) FILTER (WHERE routed_unit_id IS DISTINCT FROM first_unit_id
                              AND first_unit_id IS NOT NULL
                              AND first_handler IS NOT NULL) AS transferred_handled
    FROM cohort
),
submissions AS (
    SELECT count(*) AS submissions, COALESCE(sum(s.persons_count), 0) AS persons
    FROM submission s
    JOIN sc ON sc.id = s.case_id
    WHERE (s.received_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN :date_from AND :date_to
),
overdue AS (
    SELECT d.rule, d.case_id
    FROM case_deadline d
    JOIN cohort ON cohort.id = d.case_id
    WHERE d.active
      AND d.due_date < :today
      AND d.rule = ANY(CAST(:obligation_rules AS text[]))
)
SELECT r.*, sa.*, co.*, su.*,
       (SELECT count(DISTINCT case_id) FROM overdue) AS overdue_cases,
       (SELECT COALESCE(jsonb_object_agg(rule, n), '{}'::jsonb)
        FROM (SELECT rule, count(*) AS n FROM overdue GROUP BY rule) o) AS overdue_by_rule,
       (SELECT count(*) FROM supervision s JOIN cohort ON cohort.id = s.case_id
        WHERE s.closed_at IS NULL AND s.opened_at <= :now) AS open_supervisions
FROM rates r, satisfaction sa, counts co, submissions su
