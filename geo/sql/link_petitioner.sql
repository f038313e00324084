-- A case names a petitioner.
INSERT INTO case_petitioner (case_id, petitioner_id) VALUES (:case_id, :petitioner_id)
ON CONFLICT DO NOTHING
