-- Forget the automatic attachments (buffer, keyword) of these projects (NULL: all) before
-- attach_cases derives them again; links made by hand stay.
DELETE FROM case_project cp
WHERE cp.method <> 'link'
  AND (CAST(:ids AS integer[]) IS NULL OR cp.project_id = ANY(CAST(:ids AS integer[])))
