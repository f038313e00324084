-- The transitions of one case, in the order they happened (append-only table).
SELECT t.id, t.action, t.from_status, t.to_status, t.actor, t.role, t.at, t.note, t.data,
       t.version_after
FROM case_transition t
WHERE t.case_id = :case_id
ORDER BY t.at, t.id
