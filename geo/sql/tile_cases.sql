-- One Mapbox Vector Tile of the located cases the caller may see, layer :layer (see
-- geo.tiles.mvt). The scope (the case_scope fragment) and the items' filters are applied here, inside the
-- query, so a tile never carries a case outside the scope. `&&` on the stored point against the
-- tile's query box (the GiST index), the tile's affine shift, EPSG:3857, encoded by PostGIS.
-- No personal data: no address, no petitioner. The band is warning_band's rule with its
-- thresholds bound (as in _ogc_case_filters.sql), over the earliest running obligation.
WITH features AS (
    SELECT c.id, c.external_id,
           to_char(c.received_at AT TIME ZONE 'Asia/Shanghai',
                   'YYYY-MM-DD"T"HH24:MI:SS"+08:00"') AS received_at,
           c.category_code AS category, cat.name AS category_name, c.status,
           CAST(:status_labels AS jsonb) ->> c.status AS status_label, c.grid_code,
           c.persons_count, c.is_repeat, c.is_collective,
           CAST(dl.due AS text) AS due_date,
           CASE WHEN dl.due IS NULL THEN 'none'
                WHEN dl.due < CAST(:today AS date) THEN 'red'
                WHEN dl.due - CAST(:today AS date) <= :orange_from THEN 'orange'
                WHEN dl.due - CAST(:today AS date) <= :yellow_from THEN 'yellow'
                ELSE 'green' END AS band,
           coalesce(dl.due < CAST(:today AS date), false) AS overdue,
           EXISTS (SELECT 1 FROM supervision s
                   WHERE s.case_id = c.id AND s.closed_at IS NULL) AS supervised,
           ST_AsMVTGeom(
               ST_Transform(ST_Affine(c.location, :aff_a, :aff_b, :aff_d, :aff_e,
                                      :aff_xoff, :aff_yoff), 3857),
               ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true) AS geom
    FROM petition_case c
    JOIN category cat ON cat.code = c.category_code
    LEFT JOIN LATERAL (
        SELECT min(d.due_date) AS due
        FROM case_deadline d
        WHERE d.case_id = c.id AND d.active AND d.rule <> ALL(CAST(:window_rules AS text[]))
    ) dl ON true
    WHERE c.location && ST_MakeEnvelope(:q_minx, :q_miny, :q_maxx, :q_maxy, 4326)
      AND {{case_scope}}
      AND {{ogc_case_filters}}
)
SELECT ST_AsMVT(features.*, :layer, :extent, 'geom', 'id') AS tile
FROM features
WHERE geom IS NOT NULL
