-- One Mapbox Vector Tile of the located cases the caller may see, layer :layer (see
-- geo.tiles.mvt). The scope (the case_scope fragment) and the items' filters are applied here,
-- inside the query, so a tile never carries a case outside the scope. `&&` on the stored point
-- against the tile's query box (the GiST index), the tile's affine shift, EPSG:3857, encoded by
-- PostGIS. No personal data: no address, no petitioner. The band is warning_band's rule with
-- its thresholds bound (as in _ogc_case_filters.sql), over the earliest running obligation.
--
-- The cases are matched and placed first (ids and tile points only); their properties are read
-- for the features that are served on their own.
--
-- A crowded tile is clustered: when more than :cluster_above cases fall in it, the cases are
-- grouped by a :cluster_cell-unit square of the tile grid, and a square holding two or more
-- becomes one point at their mean with cluster = true, point_count, overdue_count,
-- supervised_count, the earliest due date and the worst band (supercluster's convention, which
-- map styles know); a lone case keeps its own feature and id. A district's year never
-- clusters; a city's does at the zooms where its pins would overlap anyway.
WITH matched AS (
    -- The tile's affine (the GCJ-02 shift, or identity), spherical Web Mercator and the tile's
    -- grid in plain arithmetic: what ST_Affine, ST_Transform(3857) and ST_AsMVTGeom do to a
    -- point, at a fraction of their cost per case.
    SELECT c.id,
           :aff_a * ST_X(c.location) + :aff_b * ST_Y(c.location) + :aff_xoff AS lon,
           :aff_d * ST_X(c.location) + :aff_e * ST_Y(c.location) + :aff_yoff AS lat
    FROM petition_case c
    JOIN category cat ON cat.code = c.category_code
    WHERE c.location && ST_MakeEnvelope(:q_minx, :q_miny, :q_maxx, :q_maxy, 4326)
      AND {{case_scope}}
      AND {{ogc_case_filters}}
), placed AS MATERIALIZED (
    SELECT m.id,
           round((6378137.0 * radians(m.lon) - :t_minx) * :extent / :t_size) AS tx,
           round((:t_maxy - 6378137.0 * ln(tan(pi() / 4 + radians(m.lat) / 2)))
                 * :extent / :t_size) AS ty
    FROM matched m
), running AS (
    -- The earliest running obligation of each case (windows such as objection are rights).
    SELECT d.case_id, min(d.due_date) AS due
    FROM case_deadline d
    JOIN placed p ON p.id = d.case_id
    WHERE d.active AND d.rule <> ALL(CAST(:window_rules AS text[]))
    GROUP BY d.case_id
), clipped AS (
    -- The tile and its buffer, as ST_AsMVTGeom clips (after the joins: the planner cannot
    -- estimate this filter, and a low estimate would turn the joins into nested loops).
    SELECT p.id, p.tx, p.ty, floor(p.tx / :cluster_cell) AS gx,
           floor(p.ty / :cluster_cell) AS gy, r.due,
           EXISTS (SELECT 1 FROM supervision s
                   WHERE s.case_id = p.id AND s.closed_at IS NULL) AS supervised
    FROM placed p
    LEFT JOIN running r ON r.case_id = p.id
    WHERE p.tx BETWEEN -:buffer AND :extent + :buffer
      AND p.ty BETWEEN -:buffer AND :extent + :buffer
), facts AS (
    -- n: the cases in the case's square when the tile is crowded, else 1 (it stands alone).
    SELECT c.*, ST_Point(c.tx, c.ty) AS geom,
           CASE WHEN count(*) OVER () > :cluster_above
                THEN count(*) OVER (PARTITION BY c.gx, c.gy) ELSE 1 END AS n
    FROM clipped c
), tile_rows AS (
    SELECT f.id, c.external_id, c.received_at, c.category, c.category_name, c.status,
           c.status_label, c.grid_code, c.persons_count, c.is_repeat, c.is_collective, f.due,
           coalesce(f.due < CAST(:today AS date), false) AS overdue, f.supervised,
           NULL::boolean AS cluster, NULL::bigint AS point_count,
           NULL::bigint AS overdue_count, NULL::bigint AS supervised_count, f.geom
    FROM facts f
    -- By id, case by case (the planner cannot know how few cases stand alone).
    CROSS JOIN LATERAL (
        SELECT pc.external_id,
               to_char(pc.received_at AT TIME ZONE 'Asia/Shanghai',
                       'YYYY-MM-DD"T"HH24:MI:SS"+08:00"') AS received_at,
               pc.category_code AS category, cat.name AS category_name, pc.status,
               CAST(:status_labels AS jsonb) ->> pc.status AS status_label, pc.grid_code,
               pc.persons_count, pc.is_repeat, pc.is_collective
        FROM petition_case pc
        JOIN category cat ON cat.code = pc.category_code
        WHERE pc.id = f.id
    ) c
    WHERE f.n = 1
    UNION ALL
    -- The worst band of a square is the band of its earliest due date.
    SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, min(f.due), NULL,
           NULL, true, count(*), count(*) FILTER (WHERE f.due < CAST(:today AS date)),
           count(*) FILTER (WHERE f.supervised),
           ST_Point(round(avg(f.tx)), round(avg(f.ty)))
    FROM facts f
    WHERE f.n > 1
    GROUP BY f.gx, f.gy
), features AS (
    SELECT t.id, t.external_id, t.received_at, t.category, t.category_name, t.status,
           t.status_label, t.grid_code, t.persons_count, t.is_repeat, t.is_collective,
           CAST(t.due AS text) AS due_date,
           CASE WHEN t.due IS NULL THEN 'none'
                WHEN t.due < CAST(:today AS date) THEN 'red'
                WHEN t.due - CAST(:today AS date) <= :orange_from THEN 'orange'
                WHEN t.due - CAST(:today AS date) <= :yellow_from THEN 'yellow'
                ELSE 'green' END AS band,
           t.overdue, t.supervised, t.cluster, t.point_count, t.overdue_count,
           t.supervised_count, t.geom
    FROM tile_rows t
)
SELECT ST_AsMVT(features.*, :layer, :extent, 'geom', 'id') AS tile
FROM features
