-- Time windows (异议, 复查/复核申请…) that ended unused stop running: a right not used, not a
-- limit missed, so no 督办 and no overdue flag.
UPDATE case_deadline
SET active = false
WHERE active
  AND due_date < :today
  AND rule = ANY(CAST(:rules AS text[]))
