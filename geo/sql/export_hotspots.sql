-- One keyset page (by id) of the stored hotspot layers (hotspot_stat, the last refresh), geometry
-- as WKB in WGS84: the same content as the OGC `hotspots` items (geo/sql/ogc_hotspot_items.sql).
-- The commander's view, exported to command-level roles only (the source's readable_by), so no
-- scope applies here. Times in China time, the trend as a comma-separated string (GIS fields
-- are scalars). NULL filters are ignored; every request value arrives as a bound parameter.
SELECT h.id, h.level, CAST(:level_labels AS jsonb) ->> h.level AS level_label,
       h.code, h.name,
       to_char(h.window_from AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')
           AS window_from,
       to_char(h.window_to AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')
           AS window_to,
       h.cases, h.submissions, h.persons, h.open, h.overdue, h.repeat, h.collective,
       h.households, h.per_1000_households, array_to_string(h.trend, ',') AS trend, h.change,
       h.gi_z, h.gi_p, h.gi_class,
       to_char(h.computed_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')
           AS computed_at,
       ST_AsBinary(h.geom) AS geom
FROM hotspot_stat h
WHERE (CAST(:level AS text) IS NULL OR h.level = CAST(:level AS text))
  AND (CAST(:after AS bigint) IS NULL OR h.id > CAST(:after AS bigint))
ORDER BY h.id
LIMIT :limit
