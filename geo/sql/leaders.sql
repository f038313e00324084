-- 包案 leaders over the caller's scope: cases they own (open = not terminal; overdue = a running
-- obligation past due) and backlog items (open = not struck; overdue = past due, not struck).
WITH led AS (
  SELECT coalesce(c.leader, ls.name) AS leader, c.leader_staff_id AS staff_id,
         c.status <> ALL(CAST(:terminal AS text[])) AS is_open,
         EXISTS (SELECT 1 FROM case_deadline d
                 WHERE d.case_id = c.id AND d.active AND d.due_date < :today
                   AND d.rule = ANY(CAST(:rules AS text[]))) AS is_overdue
  FROM petition_case c
  JOIN category cat ON cat.code = c.category_code
  LEFT JOIN staff ls ON ls.id = c.leader_staff_id
  WHERE (c.leader IS NOT NULL OR c.leader_staff_id IS NOT NULL)
    AND {{case_scope}}
), items AS (
  SELECT coalesce(i.leader, ls.name) AS leader, i.leader_staff_id AS staff_id,
         i.status <> 'struck' AS is_open,
         i.status <> 'struck' AND i.due_date < :today AS is_overdue
  FROM backlog_item i
  LEFT JOIN petition_case c ON c.id = i.case_id
  LEFT JOIN category cat ON cat.code = c.category_code
  LEFT JOIN staff ls ON ls.id = i.leader_staff_id
  WHERE (i.leader IS NOT NULL OR i.leader_staff_id IS NOT NULL)
    AND ((i.case_id IS NULL AND :scope_all) OR (i.case_id IS NOT NULL AND {{case_scope}}))
), both_kinds AS (
  SELECT leader, staff_id, 1 AS is_case, is_open, is_overdue FROM led
  UNION ALL
  SELECT leader, staff_id, 0, is_open, is_overdue FROM items
)
SELECT leader, staff_id,
       count(*) FILTER (WHERE is_case = 1) AS cases,
       count(*) FILTER (WHERE is_case = 1 AND is_open) AS open_cases,
       count(*) FILTER (WHERE is_case = 1 AND is_open AND is_overdue) AS overdue_cases,
       count(*) FILTER (WHERE is_case = 0) AS items,
       count(*) FILTER (WHERE is_case = 0 AND is_open) AS open_items,
       count(*) FILTER (WHERE is_case = 0 AND is_overdue) AS overdue_items
FROM both_kinds
GROUP BY leader, staff_id
ORDER BY count(*) FILTER (WHERE is_open) DESC, leader
