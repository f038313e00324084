-- The cases attached to a project that the caller may see, with how each was attached.
SELECT cp.case_id, c.external_id, c.received_at, c.category_code, cat.name AS category_name,
       c.status, c.grid_code, cp.method, cp.distance_m, cp.keyword, cp.attached_by,
       cp.attached_at
FROM case_project cp
JOIN petition_case c ON c.id = cp.case_id
JOIN category cat ON cat.code = c.category_code
WHERE cp.project_id = :project_id
  AND {{case_scope}}
ORDER BY c.received_at DESC, c.id DESC
LIMIT :limit OFFSET :offset
