-- Backlog items the caller may see (items without a case only for district-wide roles), by due
-- date; filtered to one list, one item, or one 包案 leader (name or staff id as text).
SELECT i.*, c.status AS case_status, cat.name AS category_name, c.grid_code
FROM backlog_item i
LEFT JOIN petition_case c ON c.id = i.case_id
LEFT JOIN category cat ON cat.code = c.category_code
WHERE (CAST(:list_id AS integer) IS NULL OR i.list_id = :list_id)
  AND (CAST(:item_id AS bigint) IS NULL OR i.id = :item_id)
  AND (CAST(:leader AS text) IS NULL OR i.leader = :leader
       OR CAST(i.leader_staff_id AS text) = :leader)
  AND ((i.case_id IS NULL AND :scope_all) OR (i.case_id IS NOT NULL AND {{case_scope}}))
ORDER BY i.due_date, i.id
