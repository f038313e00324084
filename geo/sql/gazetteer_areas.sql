-- The active 区, 街道 and 社区 (one generation per level), as WKB, for building the gazetteer.
SELECT a.level, a.code, a.name, a.short_name, a.parent_code, a.approximate,
       ST_AsBinary(a.geom) AS wkb
FROM area a
JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
ORDER BY CASE a.level WHEN 'district' THEN 0 WHEN 'street' THEN 1 ELSE 2 END, a.code
