-- Record every grid code a generation issues (first issue wins).
INSERT INTO grid_code_registry (code, first_generation_id)
SELECT code, generation_id FROM grid_cell WHERE generation_id = :generation_id
ON CONFLICT (code) DO NOTHING
