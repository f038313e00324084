-- Fresh planner statistics for the case table after it has been rewritten.
ANALYZE petition_case
