-- The counts of a project `p`'s attached cases that the caller may see (案次, open, 件次, 人次),
-- as the lateral `n` (ogc_project_items, export_projects): the case scope inside the count.
CROSS JOIN LATERAL (
    SELECT count(DISTINCT c.id) AS cases,
           count(DISTINCT c.id) FILTER (WHERE c.status <> ALL(CAST(:terminal AS text[])))
               AS open_cases,
           count(s.id) AS submissions,
           coalesce(sum(s.persons_count), 0) AS persons
    FROM case_project cp
    JOIN petition_case c ON c.id = cp.case_id
    JOIN category cat ON cat.code = c.category_code
    LEFT JOIN submission s ON s.case_id = c.id
    WHERE cp.project_id = p.id
      AND {{case_scope}}
) n
