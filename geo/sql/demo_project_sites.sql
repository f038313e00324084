-- The demo gazetteer's project sites (generated 示意 footprints), for the demo project file.
SELECT g.name, ST_AsGeoJSON(g.geom, 7) AS geometry
FROM gazetteer_entry g
WHERE g.kind = 'project'
ORDER BY g.name
