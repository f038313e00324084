-- Attach cases to these projects (NULL: all), set-based: a located case within the project's
-- buffer (metres, in the metric CRS; 0 = in or on the polygon) attaches by `buffer` with its
-- distance; a case whose content or address names the project or one of its keywords attaches
-- by `keyword` (the longest match recorded). One row per case and project, the strongest method
-- kept: link (by hand, already there) > buffer > keyword.
WITH targets AS (
    SELECT p.id, p.name, p.keywords, p.buffer_m,
           ST_Transform(p.geom, CAST(:metric_srid AS integer)) AS mgeom,
           -- a WGS84 box around the buffer, so the case location index narrows the search
           ST_Transform(ST_Envelope(ST_Buffer(ST_Transform(p.geom, CAST(:metric_srid AS integer)),
                                              p.buffer_m + 1.0)), 4326) AS search
    FROM project p
    WHERE CAST(:ids AS integer[]) IS NULL OR p.id = ANY(CAST(:ids AS integer[]))
), by_buffer AS (
    SELECT c.id AS case_id, t.id AS project_id, 'buffer' AS method,
           ST_Distance(t.mgeom, ST_Transform(c.location, CAST(:metric_srid AS integer)))
               AS distance_m,
           CAST(NULL AS text) AS keyword
    FROM targets t
    JOIN petition_case c
      ON c.location && t.search
     AND ST_DWithin(t.mgeom, ST_Transform(c.location, CAST(:metric_srid AS integer)), t.buffer_m)
), by_keyword AS (
    SELECT DISTINCT ON (c.id, t.id)
           c.id AS case_id, t.id AS project_id, 'keyword' AS method,
           CAST(NULL AS float8) AS distance_m, kw AS keyword
    FROM targets t
    CROSS JOIN LATERAL unnest(array_prepend(t.name, t.keywords)) AS kw
    JOIN petition_case c
      ON strpos(c.content, kw) > 0 OR strpos(coalesce(c.address, ''), kw) > 0
    WHERE length(kw) >= 2
    ORDER BY c.id, t.id, length(kw) DESC, kw
)
INSERT INTO case_project (case_id, project_id, method, distance_m, keyword, attached_by)
SELECT DISTINCT ON (x.case_id, x.project_id)
       x.case_id, x.project_id, x.method, x.distance_m, x.keyword, :attached_by
FROM (SELECT * FROM by_buffer UNION ALL SELECT * FROM by_keyword) x
ORDER BY x.case_id, x.project_id, (x.method = 'buffer') DESC
ON CONFLICT (case_id, project_id) DO NOTHING
