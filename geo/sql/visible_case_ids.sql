-- Which of these case ids the caller may see (the case scope, nothing personal read).
SELECT c.id
FROM petition_case c
JOIN category cat ON cat.code = c.category_code
WHERE c.id = ANY(CAST(:ids AS bigint[]))
  AND {{case_scope}}
