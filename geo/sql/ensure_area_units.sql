-- A unit for each active 街道 (its 办事处) and 社区 (its 居委会), keyed by the area code.
INSERT INTO unit (code, name, kind, area_code)
SELECT a.code,
       CASE WHEN a.level = 'street' THEN a.name || '办事处' ELSE a.name END,
       CASE WHEN a.level = 'street' THEN 'street_office' ELSE 'community' END,
       a.code
FROM area a
JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
WHERE a.level IN ('street', 'community')
ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,
                                 area_code = EXCLUDED.area_code
