-- Link cases to a project by hand (method `link`, who and when); an automatic attachment of the
-- same case becomes the link.
INSERT INTO case_project (case_id, project_id, method, attached_by, attached_at)
SELECT c.id, :project_id, 'link', :attached_by, now()
FROM petition_case c
WHERE c.id = ANY(CAST(:case_ids AS bigint[]))
ON CONFLICT (case_id, project_id) DO UPDATE
SET method = 'link', distance_m = NULL, keyword = NULL,
    attached_by = EXCLUDED.attached_by, attached_at = EXCLUDED.attached_at
RETURNING case_id
