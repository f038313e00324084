-- One petitioner, kept apart from the case.
INSERT INTO petitioner (name) VALUES (:name) RETURNING id
