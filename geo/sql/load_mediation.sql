-- One mediation record, read inside the caller's scope over its case.
SELECT m.*
FROM mediation m
JOIN petition_case c ON c.id = m.case_id
JOIN category cat ON cat.code = c.category_code
WHERE m.id = :id
  AND {{case_scope}}
