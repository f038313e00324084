-- Joint receptions (联合接访) the caller may see, newest first; one by :reception_id, or only
-- those with an unanswered part.
SELECT r.*
FROM joint_reception r
LEFT JOIN petition_case c ON c.id = r.case_id
LEFT JOIN category cat ON cat.code = c.category_code
WHERE (CAST(:reception_id AS bigint) IS NULL OR r.id = :reception_id)
  AND (NOT :open_only OR EXISTS (SELECT 1 FROM joint_reception_part op
                                 WHERE op.reception_id = r.id AND op.status = 'open'))
  AND {{reception_scope}}
ORDER BY r.received_at DESC, r.id DESC
LIMIT 500
