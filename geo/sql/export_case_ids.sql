-- One keyset page of the ids of the cases an export holds, newest first: scoped by the caller's
-- role (the case scope fragment below) and filtered; the rows themselves are then read by
-- get_cases, so masking lives in one place. Keyset, not OFFSET: page n costs what page 1 costs.
-- NULL filters are ignored; every request value arrives as a bound parameter.
SELECT c.id, c.received_at
FROM petition_case c
JOIN category cat ON cat.code = c.category_code
WHERE {{case_scope}}
  AND (CAST(:grid_code AS text) IS NULL OR c.grid_code = CAST(:grid_code AS text))
  AND (CAST(:community_code AS text) IS NULL
       OR c.community_code = CAST(:community_code AS text))
  AND (CAST(:street_code AS text) IS NULL OR c.street_code = CAST(:street_code AS text))
  AND (CAST(:statuses AS text[]) IS NULL OR c.status = ANY(CAST(:statuses AS text[])))
  AND (CAST(:category AS text) IS NULL OR c.category_code = CAST(:category AS text))
  AND (CAST(:date_from AS timestamptz) IS NULL
       OR c.received_at >= CAST(:date_from AS timestamptz))
  AND (CAST(:date_to AS timestamptz) IS NULL OR c.received_at < CAST(:date_to AS timestamptz))
  AND (CAST(:after_id AS bigint) IS NULL
       OR (c.received_at, c.id) < (CAST(:after_at AS timestamptz), CAST(:after_id AS bigint)))
ORDER BY c.received_at DESC, c.id DESC
LIMIT :limit
