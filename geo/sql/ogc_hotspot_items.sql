-- One page of the stored hotspot layers (hotspot_stat, the last refresh: the commander's view,
-- readable by command-level roles only, so no scope applies) as GeoJSON Features built by
-- PostGIS, plus the number of all matches. The trend array becomes a comma-separated string
-- (GIS clients type fields as scalars).
WITH matched AS (
    SELECT h.id
    FROM hotspot_stat h
    WHERE (CAST(:feature_id AS bigint) IS NULL OR h.id = CAST(:feature_id AS bigint))
      AND (CAST(:bbox_minx AS float8) IS NULL
           OR (h.geom && ST_MakeEnvelope(:bbox_minx, :bbox_miny, :bbox_maxx, :bbox_maxy, 4326)
               AND ST_Intersects(h.geom, ST_MakeEnvelope(:bbox_minx, :bbox_miny,
                                                         :bbox_maxx, :bbox_maxy, 4326))))
      AND (CAST(:level AS text) IS NULL OR h.level = CAST(:level AS text))
      AND (CAST(:code AS text) IS NULL OR h.code = CAST(:code AS text))
      AND (CAST(:gi_class AS text) IS NULL OR h.gi_class = CAST(:gi_class AS text))
),
page AS (
    SELECT id FROM matched ORDER BY id LIMIT :limit OFFSET :offset
)
SELECT
    (SELECT count(*) FROM matched) AS number_matched,
    coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'id', h.id,
        'geometry', ST_AsGeoJSON(h.geom, :precision)::json,
        'properties', json_build_object(
            'level', h.level, 'level_label', CAST(:level_labels AS jsonb) ->> h.level,
            'code', h.code, 'name', h.name,
            'window_from', to_char(h.window_from AT TIME ZONE 'Asia/Shanghai',
                                   'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
            'window_to', to_char(h.window_to AT TIME ZONE 'Asia/Shanghai',
                                 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
            'cases', h.cases, 'submissions', h.submissions, 'persons', h.persons,
            'open', h.open, 'overdue', h.overdue, 'repeat', h.repeat,
            'collective', h.collective, 'households', h.households,
            'per_1000_households', h.per_1000_households,
            'trend', array_to_string(h.trend, ','), 'change', h.change,
            'gi_z', h.gi_z, 'gi_p', h.gi_p, 'gi_class', h.gi_class,
            'computed_at', to_char(h.computed_at AT TIME ZONE 'Asia/Shanghai',
                                   'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'))
    ) ORDER BY h.id), '[]'::json)::text AS features
FROM page
JOIN hotspot_stat h ON h.id = page.id
