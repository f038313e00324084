-- Grid codes that the newly active generation no longer has are retired for good.
UPDATE grid_code_registry r
SET retired_generation_id = :generation_id, retired_at = now()
WHERE r.retired_at IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM grid_cell gc WHERE gc.generation_id = :generation_id AND gc.code = r.code
  )
