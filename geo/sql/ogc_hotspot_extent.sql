-- The WGS84 extent of the stored hotspot layers; NULLs when none is stored.
SELECT ST_XMin(x.e) AS minx, ST_YMin(x.e) AS miny, ST_XMax(x.e) AS maxx, ST_YMax(x.e) AS maxy
FROM (SELECT ST_Extent(h.geom) AS e FROM hotspot_stat h) x
