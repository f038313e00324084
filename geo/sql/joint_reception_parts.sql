-- The parts of these receptions with their units' names, by due date.
SELECT p.*, u.name AS unit_name
FROM joint_reception_part p
JOIN unit u ON u.id = p.unit_id
WHERE p.reception_id = ANY(CAST(:ids AS bigint[]))
ORDER BY p.reception_id, p.due_date, p.id
