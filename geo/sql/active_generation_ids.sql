-- The id of the active generation of each level (a cache key for derived layers).
SELECT level, id FROM boundary_generation WHERE is_active ORDER BY level
