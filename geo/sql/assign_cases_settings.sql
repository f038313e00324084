-- Planner settings for assign_cases.sql, for the rest of the current transaction only.
-- jit off: PostGIS functions are costed high, so the planner's estimate for assigning every case
-- passes jit_above_cost and PostgreSQL would spend a second or more compiling the statement at
-- every run, longer than the assignment itself takes. work_mem: the hash join of every located
-- case with its cell stays in memory instead of spilling in batches to disk.
SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)
