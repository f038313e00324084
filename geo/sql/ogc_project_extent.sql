-- The WGS84 extent of the projects and their time span (the first start_date and the last
-- end_date, China midnight); NULLs when there are none.
SELECT ST_XMin(x.e) AS minx, ST_YMin(x.e) AS miny, ST_XMax(x.e) AS maxx, ST_YMax(x.e) AS maxy,
       x.tmin, x.tmax
FROM (
    SELECT ST_Extent(p.geom) AS e,
           min(p.start_date)::timestamp AT TIME ZONE 'Asia/Shanghai' AS tmin,
           max(p.end_date)::timestamp AT TIME ZONE 'Asia/Shanghai' AS tmax
    FROM project p
) x
