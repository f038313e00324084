-- One page of the located cases the caller may see as GeoJSON Features, plus the number of all
-- matches. The scope is applied here, inside the query (the case_scope fragment): a case outside it is
-- never read, not even as a count. Matching reads ids only; names, petitioners and deadlines are
-- read for the page alone. The raw address, the petitioners' names (a list) and the local and
-- statutory due dates (_local_due, _statutory_due) go to geo.ogc.cases.finish_case_page, which
-- masks them and sets the bands before anything is served.
WITH matched AS (
    SELECT c.id
    FROM petition_case c
    JOIN category cat ON cat.code = c.category_code
    WHERE c.location IS NOT NULL
      AND (CAST(:feature_id AS bigint) IS NULL OR c.id = CAST(:feature_id AS bigint))
      AND {{case_scope}}
      AND {{ogc_case_filters}}
),
page AS (
    SELECT id FROM matched ORDER BY id LIMIT :limit OFFSET :offset
)
SELECT
    (SELECT count(*) FROM matched) AS number_matched,
    coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'id', c.id,
        'geometry', ST_AsGeoJSON(c.location, :precision)::json,
        'properties', json_build_object(
            'id', c.id, 'external_id', c.external_id,
            'received_at', to_char(c.received_at AT TIME ZONE 'Asia/Shanghai',
                                   'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
            'channel', c.channel, 'category', c.category_code, 'category_name', cat.name,
            'status', c.status, 'status_label', CAST(:status_labels AS jsonb) ->> c.status,
            'grid_code', c.grid_code, 'community_code', c.community_code,
            'community_name', com.name, 'street_code', c.street_code, 'street_name', st.name,
            'persons_count', c.persons_count, 'is_repeat', c.is_repeat,
            'is_collective', c.is_collective,
            'address', c.address, 'petitioner', pet.names,
            'due_date', dl.due_date, 'due_rule', dl.due_rule,
            'band', NULL, 'local_band', NULL, 'statutory_band', NULL, 'overdue', NULL,
            'supervised', EXISTS (SELECT 1 FROM supervision s
                                  WHERE s.case_id = c.id AND s.closed_at IS NULL),
            'leader', coalesce(nullif(c.leader, ''), ls.name),
            '_local_due', dl.local_due, '_statutory_due', dl.statutory_due)
    ) ORDER BY c.id), '[]'::json)::text AS features
FROM page
JOIN petition_case c ON c.id = page.id
JOIN category cat ON cat.code = c.category_code
LEFT JOIN staff ls ON ls.id = c.leader_staff_id
LEFT JOIN LATERAL (SELECT a.name FROM area a WHERE a.level = 'community'
                   AND a.code = c.community_code ORDER BY a.generation_id DESC LIMIT 1) com
       ON true
LEFT JOIN LATERAL (SELECT a.name FROM area a WHERE a.level = 'street'
                   AND a.code = c.street_code ORDER BY a.generation_id DESC LIMIT 1) st ON true
-- The running obligations: the earliest due date names the rule (statutory first on a tie).
LEFT JOIN LATERAL (
    SELECT min(d.due_date) AS due_date,
           (array_agg(d.rule ORDER BY d.due_date, d.statutory DESC, d.id))[1] AS due_rule,
           min(d.due_date) FILTER (WHERE NOT d.statutory) AS local_due,
           min(d.due_date) FILTER (WHERE d.statutory) AS statutory_due
    FROM case_deadline d
    WHERE d.case_id = c.id AND d.active AND d.rule <> ALL(CAST(:window_rules AS text[]))
) dl ON true
LEFT JOIN LATERAL (
    SELECT json_agg(p.name ORDER BY p.id) AS names
    FROM case_petitioner cp
    JOIN petitioner p ON p.id = cp.petitioner_id
    WHERE cp.case_id = c.id
) pet ON true
