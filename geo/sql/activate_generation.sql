-- Make one generation the active one of its level (run after retire_active_generation).
UPDATE boundary_generation
SET is_active = true, activated_at = now(), retired_at = NULL
WHERE id = :generation_id
RETURNING id, level
