-- One supervision with its case's routing, read inside the caller's scope (the same fragment
-- as list_cases): outside it, the supervision is not found.
SELECT s.id, s.case_id, s.reason, s.deadline_id, s.note, s.opened_by, s.opened_at,
       s.feedback_due, s.feedback, s.feedback_by, s.feedback_at, s.accepted_by, s.accepted_at,
       s.closed_at, c.routed_unit_id, c.responsible_unit_id
FROM supervision s
JOIN petition_case c ON c.id = s.case_id
JOIN category cat ON cat.code = c.category_code
WHERE s.id = :id
  AND {{case_scope}}
