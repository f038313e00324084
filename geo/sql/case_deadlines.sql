-- The deadlines of these cases, running and past, each with the rule that made it.
SELECT d.id, d.case_id, d.rule, d.start_date, d.due_date, d.days, d.working_days, d.basis,
       d.statutory, d.active, d.met_at
FROM case_deadline d
WHERE d.case_id = ANY(CAST(:ids AS bigint[]))
ORDER BY d.case_id, d.due_date, d.id
