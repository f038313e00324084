-- Insert a project or, when its code exists, replace every field of it (import and HTTP alike).
-- Its 社区 is the active 社区 covering a point on its surface (lowest code on an edge).
INSERT INTO project (code, name, project_type, households, phase, start_date, end_date,
                     buffer_m, keywords, approximate, source, properties, geom, community_code,
                     updated_at)
SELECT :code, :name, :project_type, :households, :phase, :start_date, :end_date,
       :buffer_m, CAST(:keywords AS text[]), :approximate, :source,
       CAST(:properties AS jsonb), g.geom,
       (SELECT a.code
        FROM area a
        JOIN boundary_generation bg ON bg.id = a.generation_id AND bg.is_active
        WHERE a.level = 'community' AND ST_Covers(a.geom, ST_PointOnSurface(g.geom))
        ORDER BY a.code LIMIT 1),
       now()
FROM (SELECT ST_Multi(ST_GeomFromWKB(:wkb, 4326)) AS geom) g
ON CONFLICT (code) DO UPDATE
SET name = EXCLUDED.name, project_type = EXCLUDED.project_type,
    households = EXCLUDED.households, phase = EXCLUDED.phase,
    start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date,
    buffer_m = EXCLUDED.buffer_m, keywords = EXCLUDED.keywords,
    approximate = EXCLUDED.approximate, source = EXCLUDED.source,
    properties = EXCLUDED.properties, geom = EXCLUDED.geom,
    community_code = EXCLUDED.community_code, updated_at = now()
RETURNING id, (xmax = 0) AS inserted
