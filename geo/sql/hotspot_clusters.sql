-- Density clusters of the caller's located cases in a window: ST_ClusterDBSCAN in the metric
-- CRS (:eps metres, :minpoints points per core, the point itself included), one row per
-- cluster with its hull, case count and dominant category.
-- The reference the tests hold geo.hotspots.clusters to (which computes the same rows with an
-- eps/√2 grid instead: ST_ClusterDBSCAN measures every neighbour pair, 30 s and more for the
-- 281k cases of a 100× district, and ignores statement_timeout meanwhile).
-- Repeatable: the window feeds DBSCAN the points in case-id order (so border points shared by
-- two clusters always go the same way), and clusters are numbered by size, then by their
-- lowest case id — never by the order PostGIS happened to find them in.
-- A hull that is not a polygon (every case at one spot, or on a line) is that spot or line
-- widened by eps/2.
WITH pts AS (
    SELECT c.id, c.category_code, ST_Transform(c.location, CAST(:metric_srid AS integer)) AS g
    FROM petition_case c
    JOIN category cat ON cat.code = c.category_code
    WHERE {{case_scope}}
      AND c.location IS NOT NULL
      AND c.received_at >= CAST(:date_from AS timestamptz)
      AND c.received_at < CAST(:date_to AS timestamptz)
      AND (CAST(:category AS text[]) IS NULL OR c.category_code = ANY(CAST(:category AS text[])))
      AND (CAST(:status AS text[]) IS NULL OR c.status = ANY(CAST(:status AS text[])))
), labelled AS (
    SELECT p.id, p.category_code, p.g,
           ST_ClusterDBSCAN(p.g, eps := CAST(:eps AS float8),
                            minpoints := CAST(:minpoints AS integer)) OVER (ORDER BY p.id) AS cid
    FROM pts p
), clusters AS (
    SELECT l.cid, count(*) AS cases, min(l.id) AS first_id,
           ST_ConvexHull(ST_Collect(l.g)) AS hull,
           -- the most frequent category; ties go to the first code in sort order
           mode() WITHIN GROUP (ORDER BY l.category_code) AS dominant_category
    FROM labelled l
    WHERE l.cid IS NOT NULL
    GROUP BY l.cid
)
SELECT CAST(row_number() OVER (ORDER BY k.cases DESC, k.first_id) AS integer) AS cluster_id,
       k.cases,
       k.dominant_category,
       cat.name AS dominant_category_name,
       (SELECT count(*) FROM labelled l
        WHERE l.cid = k.cid AND l.category_code = k.dominant_category) AS dominant_cases,
       ST_AsGeoJSON(ST_Transform(
           CASE WHEN GeometryType(k.hull) = 'POLYGON' THEN k.hull
                ELSE ST_Buffer(k.hull, CAST(:eps AS float8) / 2) END, 4326), 7) AS geometry
FROM clusters k
JOIN category cat ON cat.code = k.dominant_category
ORDER BY cluster_id
