-- One part of a joint reception, read inside the caller's scope over its reception.
SELECT p.*
FROM joint_reception_part p
JOIN joint_reception r ON r.id = p.reception_id
LEFT JOIN petition_case c ON c.id = r.case_id
LEFT JOIN category cat ON cat.code = c.category_code
WHERE p.id = :id
  AND {{reception_scope}}
