-- Codes and geometries (WKB) of the active generation of one area level.
SELECT a.code, ST_AsBinary(a.geom) AS wkb
FROM area a
JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
WHERE a.level = :level
ORDER BY a.code
