-- 督办 for every running obligation past its due date (statutory and local alike) that was never
-- supervised: one row per deadline, reason 'overdue:<rule>'. A deadline is supervised once;
-- accepting the feedback ends it (a new deadline, e.g. an extension, gets its own). The
-- partial unique index on (case_id, reason) WHERE closed_at IS NULL settles races between
-- concurrent ticks: safe to run every minute, idempotent.
INSERT INTO supervision (case_id, reason, deadline_id, opened_by, opened_at, feedback_due)
SELECT d.case_id, 'overdue:' || d.rule, d.id, :opened_by, :now, :feedback_due
FROM case_deadline d
WHERE d.active
  AND d.due_date < :today
  AND d.rule = ANY(CAST(:rules AS text[]))
  AND NOT EXISTS (SELECT 1 FROM supervision s WHERE s.deadline_id = d.id)
ORDER BY d.case_id, d.id
ON CONFLICT (case_id, reason) WHERE closed_at IS NULL DO NOTHING
RETURNING id
