-- The workflow state of one case, read inside the caller's scope (same fragment as list_cases):
-- a case outside it is not found, exactly like one that does not exist.
SELECT c.id, c.status, c.version, c.received_at, c.category_code, cat.restricted,
       c.routed_unit_id, c.responsible_unit_id, c.first_unit_id, c.first_handler,
       c.is_repeat, c.is_collective, c.extension_days, c.merged_into_id, c.evaluation
FROM petition_case c
JOIN category cat ON cat.code = c.category_code
WHERE c.id = :id
  AND {{case_scope}}
