-- One keyset page (by id) of the projects an export holds, geometry as WKB in WGS84: the same
-- content as the OGC `projects` items (geo/sql/ogc_project_items.sql). Projects are places:
-- every role exports all of them, but the counts are of the attached cases the caller may see
-- (the case scope applied inside the count). NULL filters are ignored; every request value
-- arrives as a bound parameter.
WITH page AS (
    SELECT p.id
    FROM project p
    LEFT JOIN LATERAL (
        SELECT a.parent_code
        FROM area a JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
        WHERE a.level = 'community' AND a.code = p.community_code
    ) com ON true
    WHERE (CAST(:community_code AS text) IS NULL
           OR p.community_code = CAST(:community_code AS text))
      AND (CAST(:street_code AS text) IS NULL OR com.parent_code = CAST(:street_code AS text))
      AND (CAST(:after AS bigint) IS NULL OR p.id > CAST(:after AS bigint))
    ORDER BY p.id
    LIMIT :limit
)
SELECT p.id, p.code, p.name, p.project_type,
       CAST(:type_labels AS jsonb) ->> p.project_type AS type_label,
       p.households, p.phase, p.start_date, p.end_date, p.buffer_m,
       p.community_code, com.name AS community_name,
       com.parent_code AS street_code, st.name AS street_name,
       p.approximate, p.source,
       n.cases, n.open_cases, n.submissions, n.persons,
       ST_AsBinary(p.geom) AS geom
FROM page
JOIN project p ON p.id = page.id
LEFT JOIN LATERAL (
    SELECT a.name, a.parent_code
    FROM area a JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active
    WHERE a.level = 'community' AND a.code = p.community_code
) com ON true
LEFT JOIN LATERAL (
    SELECT s.name
    FROM area s JOIN boundary_generation g ON g.id = s.generation_id AND g.is_active
    WHERE s.level = 'street' AND s.code = com.parent_code
) st ON true
{{project_case_counts}}
ORDER BY p.id
