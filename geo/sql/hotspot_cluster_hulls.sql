-- The hulls of DBSCAN clusters (geo.hotspots.clusters) as GeoJSON in WGS84, one row per
-- :cluster number in ascending order. (:case_ids[i], :cluster[i]) names a case of that cluster
-- on (or within a millimetre of) its convex hull, so the hull of those cases, projected by
-- PostGIS to the metric CRS, is the hull of the whole cluster. A hull that is not a polygon
-- (every case at one spot, or on a line) is that spot or line widened by eps/2.
WITH hull AS (
    SELECT h.cluster,
           ST_ConvexHull(ST_Collect(ST_Transform(c.location, CAST(:metric_srid AS integer))))
               AS g
    FROM unnest(CAST(:case_ids AS bigint[]), CAST(:cluster AS integer[])) AS h(case_id, cluster)
    JOIN petition_case c ON c.id = h.case_id
    GROUP BY h.cluster
)
SELECT hull.cluster,
       ST_AsGeoJSON(ST_Transform(
           CASE WHEN GeometryType(hull.g) = 'POLYGON' THEN hull.g
                ELSE ST_Buffer(hull.g, CAST(:eps AS float8) / 2) END, 4326), 7) AS geometry
FROM hull
ORDER BY hull.cluster
