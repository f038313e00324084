-- The supervisions (督办) of these cases, oldest first.
SELECT s.id, s.case_id, s.reason, s.deadline_id, s.note, s.opened_by, s.opened_at,
       s.feedback_due, s.feedback, s.feedback_by, s.feedback_at, s.accepted_by, s.accepted_at,
       s.closed_at
FROM supervision s
WHERE s.case_id = ANY(CAST(:ids AS bigint[]))
ORDER BY s.case_id, s.opened_at, s.id
