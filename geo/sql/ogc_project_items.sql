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
      AND {{ogc_project_filters}}
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
{{project_case_counts}}
