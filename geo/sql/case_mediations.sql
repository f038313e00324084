-- The mediation records of one case, oldest first (the caller has checked the scope).
SELECT m.*
FROM mediation m
WHERE m.case_id = :case_id
ORDER BY m.started_on, m.id
