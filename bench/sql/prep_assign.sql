-- Bench data preparation, not measured: put the labels the PostGIS core computed (the table
-- bench_labels, left by the assign_postgis job) on the cases with their 社区 and 街道, as
-- geo/sql/assign_cases.sql would — for scales where the whole statement is not run.
UPDATE petition_case c
SET assignment_flag = l.flag, grid_code = l.code, grid_generation_id = gc.generation_id,
    community_code = gc.community_code, street_code = a.parent_code
FROM bench_labels l
LEFT JOIN grid_cell gc
       ON gc.code = l.code
      AND gc.generation_id IN (SELECT id FROM boundary_generation
                               WHERE is_active AND level = 'grid')
LEFT JOIN area a
       ON a.level = 'community' AND a.code = gc.community_code
      AND a.generation_id IN (SELECT id FROM boundary_generation WHERE is_active)
WHERE c.id = l.id
  AND c.grid_code IS DISTINCT FROM l.code
