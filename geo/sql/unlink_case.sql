-- Remove a link made by hand (automatic attachments come back at the next attach run).
DELETE FROM case_project
WHERE project_id = :project_id AND case_id = :case_id AND method = 'link'
RETURNING case_id
