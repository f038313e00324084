-- One page of the projects as GeoJSON Features built by PostGIS, plus the number of all matches
-- (projects are places: every role reads all of them). The counts are of the attached cases
-- the caller may see: the case scope is applied inside the count (a case outside it is never
-- counted), for the page's projects alone. `datetime` keeps the projects whose
-- start_date–end_date (China days; an open end is unbounded) overlaps the interval.
WITH matched AS (
    SELECT p.id
    FROM project p
    WHERE (CAST(:feature_id AS bigint) IS NULL OR p.id = CAST(:feature_id AS bigint))
      AND (CAST(:bbox_minx AS float8) IS NULL
           OR (p.geom && ST_MakeEnvelope(:bbox_minx, :bbox_miny, :bbox_maxx, :bbox_maxy, 4326)
               AND ST_Intersects(p.geom, ST_MakeEnvelope(:bbox_minx, :bbox_miny,
                                                         :bbox_maxx, :bbox_maxy, 4326))))
      AND (CAST(:code AS text) IS NULL OR p.code = CAST(:code AS text))
      AND (CAST(:name AS text) IS NULL OR p.name = CAST(:name AS text))
      AND (CAST(:project_type AS text) IS NULL
           OR p.project_type = CAST(:project_type AS text))
      AND (CAST(:community_code AS text) IS NULL
           OR p.community_code = CAST(:community_code AS text))
      AND (CAST(:approximate AS boolean) IS NULL
           OR p.approximate = CAST(:approximate AS boolean))
      AND (CAST(:dt_start AS timestamptz) IS NULL OR p.end_date IS NULL
           OR p.end_date >= CAST(CAST(:dt_start AS timestamptz) AT TIME ZONE 'Asia/Shanghai'
                                 AS date))
      AND (CAST(:dt_end AS timestamptz) IS NULL OR p.start_date IS NULL
           OR p.start_date <= CAST(CAST(:dt_end AS timestamptz) AT TIME ZONE 'Asia/Shanghai'
                                   AS date))
),
page AS (
    SELECT id FROM matched ORDER BY id LIMIT :limit OFFSET :offset
)
SELECT
    (SELECT count(*) FROM matched) AS number_matched,
    coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'id', p.id,
        'geometry', ST_AsGeoJSON(p.geom, :precision)::json,
        'properties', json_build_object(
            'code', p.code, 'name', p.name, 'project_type', p.project_type,
            'type_label', CAST(:type_labels AS jsonb) ->> p.project_type,
            'households', p.households, 'phase', p.phase,
            'start_date', p.start_date, 'end_date', p.end_date, 'buffer_m', p.buffer_m,
            'community_code', p.community_code, 'community_name', com.name,
            'approximate', p.approximate, 'source', p.source,
            'cases', n.cases, 'open_cases', n.open_cases,
            'submissions', n.submissions, 'persons', n.persons)
    ) ORDER BY p.id), '[]'::json)::text AS features
FROM page
JOIN project p ON p.id = page.id
LEFT JOIN LATERAL (
    SELECT a.name
    FROM area a JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
    WHERE a.level = 'community' AND a.code = p.community_code
) com ON true
CROSS JOIN LATERAL (
    SELECT count(DISTINCT c.id) AS cases,
           count(DISTINCT c.id) FILTER (WHERE c.status <> ALL(CAST(:terminal AS text[])))
               AS open_cases,
           count(s.id) AS submissions,
           coalesce(sum(s.persons_count), 0) AS persons
    FROM case_project cp
    JOIN petition_case c ON c.id = cp.case_id
    JOIN category cat ON cat.code = c.category_code
    LEFT JOIN submission s ON s.case_id = c.id
    WHERE cp.project_id = p.id
      AND {{case_scope}}
) n
