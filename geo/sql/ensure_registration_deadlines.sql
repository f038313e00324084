-- Cases that lack a registration deadline: no routing deadline ever, or no local 15-day target
-- ever (whether the case is general enough to get one is decided in Python: machine.is_general).
-- :ids NULL means every case still in `registered` (the tick); else exactly these cases.
SELECT c.id, (c.received_at AT TIME ZONE 'Asia/Shanghai')::date AS received_day,
       c.is_collective, c.is_repeat, cat.restricted,
       NOT EXISTS (SELECT 1 FROM case_deadline d
                   WHERE d.case_id = c.id AND d.rule = 'routing') AS needs_routing,
       NOT EXISTS (SELECT 1 FROM case_deadline d
                   WHERE d.case_id = c.id AND d.rule = 'local_close') AS needs_local
FROM petition_case c
JOIN category cat ON cat.code = c.category_code
WHERE (CASE WHEN CAST(:ids AS bigint[]) IS NULL THEN c.status = 'registered'
            ELSE c.id = ANY(CAST(:ids AS bigint[])) END)
  AND (NOT EXISTS (SELECT 1 FROM case_deadline d WHERE d.case_id = c.id AND d.rule = 'routing')
       OR NOT EXISTS (SELECT 1 FROM case_deadline d
                      WHERE d.case_id = c.id AND d.rule = 'local_close'))
ORDER BY c.id
