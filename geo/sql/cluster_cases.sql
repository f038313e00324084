-- Rewrite petition_case in the order of its location index (and remember that index for the
-- next CLUSTER): cases near each other then share table pages, so a map box or a tile reads a
-- few pages instead of one page per case. Takes an ACCESS EXCLUSIVE lock while it runs.
CLUSTER petition_case USING petition_case_location_idx
