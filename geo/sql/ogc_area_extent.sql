-- The WGS84 extent of the active 街道 or 社区 (:level); NULLs when there are none.
SELECT ST_XMin(x.e) AS minx, ST_YMin(x.e) AS miny, ST_XMax(x.e) AS maxx, ST_YMax(x.e) AS maxy
FROM (
    SELECT ST_Extent(a.geom) AS e
    FROM area a
    JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
    WHERE a.level = :level
) x
