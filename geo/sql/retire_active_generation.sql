-- Retire the active generation of the level of :generation_id (if it is another one).
UPDATE boundary_generation g
SET is_active = false, retired_at = now()
FROM boundary_generation t
WHERE t.id = :generation_id AND g.level = t.level AND g.is_active AND g.id <> t.id
