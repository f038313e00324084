-- The WGS84 extent of the active 网格; NULLs when there are none.
SELECT ST_XMin(x.e) AS minx, ST_YMin(x.e) AS miny, ST_XMax(x.e) AS maxx, ST_YMax(x.e) AS maxy
FROM (
    SELECT ST_Extent(gc.geom) AS e
    FROM grid_cell gc
    JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active
) x
