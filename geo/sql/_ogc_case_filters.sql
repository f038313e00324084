-- The filters of the OGC `cases` collection over a case `c` (ogc_case_items, tile_cases), included
-- after the case scope. NULL parameters are ignored. The deadline filters
-- read case_deadline only when asked for (correlated, behind the IS NULL test); the band rule is
-- geo.workflow.deadlines.warning_band with its thresholds bound (:yellow_from, :orange_from),
-- over the earliest running obligation (windows such as objection are rights, not obligations).
(CAST(:status AS text[]) IS NULL OR c.status = ANY(CAST(:status AS text[])))
  AND (CAST(:category AS text[]) IS NULL OR c.category_code = ANY(CAST(:category AS text[])))
  AND (CAST(:grid_code AS text) IS NULL OR c.grid_code = CAST(:grid_code AS text))
  AND (CAST(:community_code AS text) IS NULL
       OR c.community_code = CAST(:community_code AS text))
  AND (CAST(:street_code AS text) IS NULL OR c.street_code = CAST(:street_code AS text))
  AND (CAST(:open AS boolean) IS NULL
       OR CAST(:open AS boolean) = (c.status <> ALL(CAST(:terminal AS text[]))))
  AND (CAST(:dt_start AS timestamptz) IS NULL
       OR c.received_at >= CAST(:dt_start AS timestamptz))
  AND (CAST(:dt_end AS timestamptz) IS NULL OR c.received_at <= CAST(:dt_end AS timestamptz))
  AND (CAST(:bbox_minx AS float8) IS NULL
       OR c.location && ST_MakeEnvelope(:bbox_minx, :bbox_miny, :bbox_maxx, :bbox_maxy, 4326))
  AND (CAST(:overdue AS boolean) IS NULL OR CAST(:overdue AS boolean) = EXISTS (
       SELECT 1 FROM case_deadline d
       WHERE d.case_id = c.id AND d.active AND d.rule <> ALL(CAST(:window_rules AS text[]))
         AND d.due_date < CAST(:today AS date)))
  AND (CAST(:supervised AS boolean) IS NULL OR CAST(:supervised AS boolean) = EXISTS (
       SELECT 1 FROM supervision s WHERE s.case_id = c.id AND s.closed_at IS NULL))
  AND (CAST(:leader AS text) IS NULL OR CASE CAST(:leader AS text)
       WHEN 'true' THEN c.leader_staff_id IS NOT NULL OR nullif(c.leader, '') IS NOT NULL
       WHEN 'false' THEN c.leader_staff_id IS NULL AND nullif(c.leader, '') IS NULL
       ELSE coalesce(nullif(c.leader, ''),
                     (SELECT ls.name FROM staff ls WHERE ls.id = c.leader_staff_id))
            = CAST(:leader AS text) END)
  AND (CAST(:band AS text[]) IS NULL OR (
       SELECT CASE WHEN m.due IS NULL THEN 'none'
                   WHEN m.due < CAST(:today AS date) THEN 'red'
                   WHEN m.due - CAST(:today AS date) <= :orange_from THEN 'orange'
                   WHEN m.due - CAST(:today AS date) <= :yellow_from THEN 'yellow'
                   ELSE 'green' END
       FROM (SELECT min(d.due_date) AS due FROM case_deadline d
             WHERE d.case_id = c.id AND d.active
               AND d.rule <> ALL(CAST(:window_rules AS text[]))) m
       ) = ANY(CAST(:band AS text[])))
