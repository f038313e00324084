-- Backlog lists (清单) the caller may see — district-wide roles all of them, others those with an
-- item whose case is in their scope — with counts over the visible items; :list_id for one.
WITH visible AS (
  SELECT i.list_id, i.status
  FROM backlog_item i
  LEFT JOIN petition_case c ON c.id = i.case_id
  LEFT JOIN category cat ON cat.code = c.category_code
  WHERE (i.case_id IS NULL AND :scope_all)
     OR (i.case_id IS NOT NULL AND {{case_scope}})
)
SELECT l.*,
       count(v.list_id) AS items_total,
       count(v.list_id) FILTER (WHERE v.status = 'open') AS items_open,
       count(v.list_id) FILTER (WHERE v.status = 'pending') AS items_pending
FROM backlog_list l
LEFT JOIN visible v ON v.list_id = l.id
WHERE (CAST(:list_id AS integer) IS NULL OR l.id = :list_id)
GROUP BY l.id
HAVING :scope_all OR count(v.list_id) > 0
ORDER BY l.due_date, l.id
