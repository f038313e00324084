-- The WGS84 extent and time span of the located cases the caller may see (scope applied here).
SELECT ST_XMin(x.e) AS minx, ST_YMin(x.e) AS miny, ST_XMax(x.e) AS maxx, ST_YMax(x.e) AS maxy,
       x.tmin, x.tmax
FROM (
    SELECT ST_Extent(c.location) AS e, min(c.received_at) AS tmin, max(c.received_at) AS tmax
    FROM petition_case c
    JOIN category cat ON cat.code = c.category_code
    WHERE c.location IS NOT NULL
      AND {{case_scope}}
) x
